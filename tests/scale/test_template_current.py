"""The template schema new cooperatives are cloned from follows the code's migrations."""

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.db import connection
from django_tenants.signals import schema_migrated

from tenants import migration_executors, services


def _forget_template_migration(app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations'
            " WHERE app = %s AND name = %s",
            [app, name],
        )


@pytest.fixture
def migrated():
    """The schemas migrate_schemas runs Django's migrate in, in order."""
    schemas = []

    def record(sender, schema_name, **kwargs):
        schemas.append(schema_name)

    schema_migrated.connect(record)
    yield schemas
    schema_migrated.disconnect(record)


@pytest.mark.django_db
def test_migrate_schemas_over_all_cooperatives_migrates_the_template_too(
    odra, warta, migrated, monkeypatch
):
    assert get_commands()["migrate_schemas"] == "tenants"
    monkeypatch.setattr(migration_executors, "schemas_behind", lambda schemas: list(schemas))
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    assert {"odra", "warta", settings.TENANT_BASE_SCHEMA} <= set(migrated)
    assert migrated[-1] == settings.TENANT_BASE_SCHEMA


@pytest.mark.django_db
def test_a_plain_migrate_schemas_skips_the_schemas_already_up_to_date(odra, warta, migrated):
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    assert migrated == []


@pytest.mark.django_db
def test_only_the_schemas_behind_are_migrated(odra, warta, migrated, monkeypatch):
    monkeypatch.setattr(
        migration_executors, "schemas_behind", lambda schemas: [s for s in schemas if s == "odra"]
    )
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    assert migrated == ["odra"]


@pytest.mark.django_db
def test_a_migrate_schemas_naming_an_app_runs_everywhere(odra, warta, migrated):
    call_command("migrate_schemas", "ebok", tenant=True, interactive=False, verbosity=0)
    assert {"odra", "warta", settings.TENANT_BASE_SCHEMA} <= set(migrated)


@pytest.mark.django_db
def test_schemas_behind_names_those_missing_a_latest_migration_or_the_table(odra, warta):
    assert services.schemas_behind(["odra", "warta"]) == []
    app, name = services._tenant_leaf_migrations()[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM odra.django_migrations WHERE app = %s AND name = %s", [app, name]
        )
        cursor.execute("CREATE SCHEMA scale_bare")
    assert services.schemas_behind(["warta", "odra", "scale_bare"]) == ["odra", "scale_bare"]


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
