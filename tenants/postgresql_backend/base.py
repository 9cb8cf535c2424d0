"""django-tenants' PostgreSQL backend, listing a schema's tables without reading
every other schema's (docs/decisions/0804-schema-table-list-via-pg-depend.md)."""

from django.db.backends.postgresql.introspection import TableInfo
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.postgresql_backend.introspection import DatabaseSchemaIntrospection

# Django asks pg_table_is_visible() of every relation in the database; pg_class has
# no index on relnamespace, and with 3,600 cooperatives it holds ~650,000 rows. Every
# object of a schema depends on it in pg_depend, whose index finds them at once.
SCHEMA_TABLES = """
SELECT c.relname,
       CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('m', 'v') THEN 'v' ELSE 't' END,
       obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class c ON d.classid = 'pg_catalog.pg_class'::regclass AND c.oid = d.objid
WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass
  AND d.refobjid = to_regnamespace(quote_ident(%s))
  AND d.deptype = 'n'
  AND c.relkind IN ('f', 'm', 'p', 'r', 'v')
"""


class CooperativeSchemaIntrospection(DatabaseSchemaIntrospection):
    def get_table_list(self, cursor):
        """The tables and views of the connection's current schema (as django-tenants')."""
        cursor.execute(SCHEMA_TABLES, [self.connection.schema_name])
        return [TableInfo(*row) for row in cursor.fetchall() if row[0] not in self.ignored_tables]


class DatabaseWrapper(TenantDatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.introspection = CooperativeSchemaIntrospection(self)
