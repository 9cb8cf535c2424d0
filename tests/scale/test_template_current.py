"""The template schema new cooperatives are cloned from follows the code's migrations."""

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.db import connection
from django_tenants.signals import schema_migrated

from tenants import services


def _forget_template_migration(app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations'
            " WHERE app = %s AND name = %s",
            [app, name],
        )


@pytest.mark.django_db
def test_migrate_schemas_over_all_cooperatives_migrates_the_template_too(odra, warta):
    assert get_commands()["migrate_schemas"] == "tenants"
    migrated = []

    def record(sender, schema_name, **kwargs):
        migrated.append(schema_name)

    schema_migrated.connect(record)
    try:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    finally:
        schema_migrated.disconnect(record)
    assert {"odra", "warta", settings.TENANT_BASE_SCHEMA} <= set(migrated)
    assert migrated[-1] == settings.TENANT_BASE_SCHEMA


@pytest.mark.django_db
def test_a_template_missing_a_latest_migration_is_not_current():
    assert services.template_is_current()
    app, name = services._tenant_leaf_migrations()[0]
    _forget_template_migration(app, name)
    assert not services.template_is_current()


@pytest.mark.django_db
def test_onboarding_brings_a_stale_template_up_to_date_before_cloning(monkeypatch):
    _forget_template_migration(*services._tenant_leaf_migrations()[-1])
    calls = []
    monkeypatch.setattr(services, "call_command", lambda *a, **kw: calls.append((a, kw)))
    services.onboard_cooperative(code="STALE", name="Stale template")
    assert calls == [
        (
            ("migrate_schemas",),
            {"schema_name": settings.TENANT_BASE_SCHEMA, "interactive": False, "verbosity": 0},
        )
    ]


@pytest.mark.django_db
def test_onboarding_from_a_current_template_migrates_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "call_command", lambda *a, **kw: calls.append((a, kw)))
    services.onboard_cooperative(code="CURRENT", name="Current template")
    assert calls == []
