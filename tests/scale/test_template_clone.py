"""The fast template clone builds the same schema as django-tenants' clone_schema."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.clone import CloneSchema

from tenants.services import clone_template_schema

CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid)
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
             AND NOT a.attisdropped
        LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relnamespace = %s::regnamespace""",
    "indexes": """
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE c.relnamespace = %s::regnamespace""",
    "identities": """
        SELECT c.relname, a.attname, s.seqstart, s.seqincrement
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attidentity <> ''
        JOIN pg_depend d ON d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
        JOIN pg_sequence s ON s.seqrelid = d.objid
        WHERE c.relnamespace = %s::regnamespace""",
}


def describe(schema: str) -> dict:
    """The schema's tables, keys, indexes and rows, with its own name taken out."""
    own_name = re.compile(rf"\b{re.escape(schema)}\.")
    description = {}
    with connection.cursor() as cursor:
        for part, sql in CATALOG.items():
            cursor.execute(sql, [schema])
            description[part] = sorted(
                tuple(own_name.sub("", v) if isinstance(v, str) else v for v in row)
                for row in cursor.fetchall()
            )
        tables = sorted({row[0] for row in description["columns"]})
        counts = []
        for table in tables:
            cursor.execute(
                "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text))"
                f' FROM "{schema}"."{table}" t'
            )
            counts.append((table, *cursor.fetchone()))
        description["rows"] = counts
    return description


def next_ids(schema: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a"
            " ON a.attrelid = c.oid AND a.attidentity <> ''"
            " WHERE c.relnamespace = %s::regnamespace ORDER BY 1, 2",
            [schema],
        )
        columns = cursor.fetchall()
        ids = []
        for table, column in columns:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s))", [f'"{schema}"."{table}"', column]
            )
            ids.append((table, column, cursor.fetchone()[0]))
    return ids


@pytest.mark.django_db
def test_fast_clone_is_the_template_to_the_last_index_name():
    template = settings.TENANT_BASE_SCHEMA
    clone_template_schema("clone_fast")
    fast, original = describe("clone_fast"), describe(template)
    assert fast["columns"] and fast["indexes"] and fast["identities"]
    assert any(count for _, count, _ in fast["rows"])  # migrations, content types, permissions
    for part in CATALOG.keys() | {"rows"}:
        assert fast[part] == original[part], part


@pytest.mark.django_db
def test_fast_clone_continues_ids_where_the_generic_clone_does():
    clone_template_schema("clone_fast")
    # django-tenants' function gives unique constraints PostgreSQL's default names
    # instead of the template's; tables, rows and sequences are what it gets right.
    CloneSchema().clone_schema(settings.TENANT_BASE_SCHEMA, "clone_generic", "DATA")
    fast, generic = describe("clone_fast"), describe("clone_generic")
    for part in ("columns", "identities", "rows"):
        assert fast[part] == generic[part], part
    assert next_ids("clone_fast") == next_ids("clone_generic")
    assert any(next_id > 1 for _, _, next_id in next_ids("clone_fast"))


@pytest.mark.django_db
def test_fast_clone_keeps_its_tables_apart_from_the_template():
    clone_template_schema("clone_apart")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
            " JOIN pg_class r ON r.oid = k.confrelid"
            " WHERE c.relnamespace = 'clone_apart'::regnamespace AND k.contype = 'f'"
            " AND r.relnamespace <> c.relnamespace AND r.relnamespace <> 'public'::regnamespace"
        )
        assert cursor.fetchone()[0] == 0  # no foreign key points back into the template
        cursor.execute(
            "SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class c ON c.oid = x.indrelid"
            " WHERE i.relnamespace = 'clone_apart'::regnamespace"
            " AND c.relnamespace <> i.relnamespace"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [
        "CREATE VIEW {t}.bench_view AS SELECT 1 AS one",
        "CREATE FUNCTION {t}.bench_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE TYPE {t}.bench_kind AS ENUM ('a', 'b')",
        "CREATE SEQUENCE {t}.bench_free_seq",
        "CREATE TABLE {t}.bench_serial (id serial PRIMARY KEY)",
    ],
)
def test_a_template_holding_more_than_tables_is_cloned_by_django_tenants(extra, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute(extra.format(t=settings.TENANT_BASE_SCHEMA))
    generic = []
    monkeypatch.setattr(
        CloneSchema, "clone_schema", lambda self, *args, **kwargs: generic.append(args)
    )
    clone_template_schema("clone_other")
    assert generic == [(settings.TENANT_BASE_SCHEMA, "clone_other", "DATA")]
