"""The backend's table listing is django-tenants' own, found without a scan of pg_class."""

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.postgresql_backend.introspection import DatabaseSchemaIntrospection
from django_tenants.utils import schema_context

from tenants.postgresql_backend.base import CooperativeSchemaIntrospection


@pytest.mark.django_db
@pytest.mark.parametrize("schema", ["public", "odra", settings.TENANT_BASE_SCHEMA])
def test_the_table_list_of_a_schema_is_django_tenants_list(odra, schema):
    assert isinstance(connection.introspection, CooperativeSchemaIntrospection)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE VIEW "{schema}".scale_view AS SELECT 1 AS one')
    with schema_context(schema), connection.cursor() as cursor:
        ours = sorted(connection.introspection.get_table_list(cursor))
        theirs = sorted(DatabaseSchemaIntrospection(connection).get_table_list(cursor))
    assert ours == theirs
    assert ("scale_view", "v", None) in [tuple(table) for table in ours]
    assert any(table.name == "django_migrations" for table in ours)


@pytest.mark.django_db
def test_the_table_list_reads_no_other_schema(odra, warta):
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "warta".only_in_warta (id int)')
    with schema_context("odra"), connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    assert "only_in_warta" not in names
    assert "ebok_ledger_entry" in names
