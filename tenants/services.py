"""Writes on the public schema: onboarding, suspension."""

import functools
import logging
import re

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.clone import CloneSchema
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import schema_exists

from tenants.middleware import forget_cached_hosts
from tenants.models import Cooperative, Domain
from tenants.subdomains import domain_for_code

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,19}$")
logger = logging.getLogger(__name__)


class OnboardingError(Exception):
    pass


def ensure_template_schema() -> None:
    """Create the schema new cooperatives are cloned from, or bring it up to date:
    a cooperative is never cloned from a template behind the code's migrations."""
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    elif template_is_current():
        return
    call_command("migrate_schemas", schema_name=template, interactive=False, verbosity=0)


def template_is_current() -> bool:
    """Whether the template has every tenant app's latest migration (one query)."""
    return not schemas_behind([settings.TENANT_BASE_SCHEMA])


def schemas_behind(schemas: list[str]) -> list[str]:
    """Those of ``schemas`` without every tenant app's latest migration, in a few
    queries for thousands of schemas (in their order)."""
    if not schemas:
        return []
    leaves = _tenant_leaf_migrations()
    with connection.cursor() as cursor:
        # Schemas with a django_migrations table, through pg_class's index on relname.
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'django_migrations' AND n.nspname = ANY(%s)",
            [list(schemas)],
        )
        recorded = {row[0] for row in cursor.fetchall()}
        pairs = ", ".join(["(%s, %s)"] * len(leaves))
        current = set()
        names = sorted(recorded)
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s FROM {connection.ops.quote_name(name)}.django_migrations"
                    f" WHERE (app, name) IN ({pairs}) HAVING count(DISTINCT (app, name)) = %s"
                    for name in chunk
                ),
                [p for name in chunk for p in (name, *_flat(leaves), len(leaves))],
            )
            current.update(row[0] for row in cursor.fetchall())
    return [schema for schema in schemas if schema not in current]


def _flat(pairs):
    return [part for pair in pairs for part in pair]


@functools.cache
def _tenant_leaf_migrations() -> tuple[tuple[str, str], ...]:
    """The last migration of each tenant app, as the code has them (read once per process)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    labels = {
        config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS
    }
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return tuple(sorted(leaf for label in labels for leaf in graph.leaf_nodes(label)))


@transaction.atomic
def onboard_cooperative(
    *, code: str, name: str, domain: str | None = None, **details
) -> Cooperative:
    """Create the cooperative, its schema (a clone of the template) and its domain.

    All or nothing: a duplicate code or domain leaves no schema, row or domain behind.
    """
    code = code.strip().upper()
    if not CODE_PATTERN.match(code):
        raise OnboardingError(
            _("Invalid code %(code)r: 2–20 letters and digits, starting with a letter.")
            % {"code": code}
        )
    if not name.strip():
        raise OnboardingError(_("The cooperative's name is required."))
    domain = (domain or domain_for_code(code)).strip().lower()
    if Cooperative.objects.filter(code__iexact=code).exists() or schema_exists(code.lower()):
        raise OnboardingError(
            _("A cooperative with code %(code)s already exists.") % {"code": code}
        )
    if Domain.objects.filter(domain=domain).exists():
        raise OnboardingError(_("The domain %(domain)s is already in use.") % {"domain": domain})
    ensure_template_schema()
    cooperative = Cooperative(schema_name=code.lower(), code=code, name=name.strip(), **details)
    # The schema is cloned here rather than by TenantMixin.save(): see clone_template_schema.
    cooperative.auto_create_schema = False
    cooperative.save(verbosity=0)
    clone_template_schema(cooperative.schema_name)
    post_schema_sync.send(sender=TenantMixin, tenant=cooperative.serializable_fields())
    Domain.objects.create(domain=domain, tenant=cooperative, is_primary=True)
    connection.set_schema_to_public()
    return cooperative


# --- Cloning the template schema ---------------------------------------------------
#
# django-tenants' clone_schema() is a generic PL/pgSQL function whose catalog queries
# (pg_indexes, information_schema) read every schema of the database: cloning takes
# ~0.5 s with 3 cooperatives and ~5 s with 100 (docs/decisions/0008-fast-template-clone.md).
# Our template holds only tables, their indexes, constraints and triggers, and identity
# sequences, so a clone is a fixed list of statements read from the template's own catalog rows
# (looked up by OID) and sent in one round trip; the migration rows, content types and
# permissions of the template are copied with the tables, so nothing needs faking after.
# A template holding anything else is cloned by django-tenants' function, as before.

# Everything directly in a schema depends on it in pg_depend, whose index finds the
# template's members at once; pg_class has no index on relnamespace, so filtering it
# by schema reads every relation of every cooperative (~1 s with 3,600 of them).
_TEMPLATE_MEMBERS = """
WITH members AS (
    SELECT d.classid, d.objid FROM pg_depend d
    WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %(ns)s AND d.deptype = 'n'
), relations AS (
    SELECT c.oid, c.relname, c.relkind, c.relacl
    FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
), tables AS (
    SELECT oid, relname FROM relations WHERE relkind = 'r'
)
"""

_UNSUPPORTED_IN_TEMPLATE_SQL = (
    _TEMPLATE_MEMBERS
    + """
SELECT (SELECT count(*) FROM members WHERE classid <> 'pg_class'::regclass)
     + (SELECT count(*) FROM relations WHERE relkind NOT IN ('r', 'S') OR relacl IS NOT NULL)
     + (SELECT count(*) FROM relations s WHERE s.relkind = 'S'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = s.oid AND d.deptype = 'i'))
     + (SELECT count(*) FROM tables t JOIN pg_rewrite r ON r.ev_class = t.oid)
     + (SELECT count(*) FROM tables t JOIN pg_policy p ON p.polrelid = t.oid)
     + (SELECT count(*) FROM tables t JOIN pg_inherits i ON i.inhrelid = t.oid)
     + (SELECT count(*) FROM tables t JOIN pg_inherits i ON i.inhparent = t.oid)
     + (SELECT count(*) FROM tables t JOIN pg_statistic_ext x ON x.stxrelid = t.oid)
     + (SELECT count(*) FROM tables t JOIN pg_attrdef a ON a.adrelid = t.oid
          WHERE pg_get_expr(a.adbin, a.adrelid) LIKE 'nextval(%%')
     + (SELECT count(*) FROM pg_namespace n WHERE n.oid = %(ns)s AND n.nspacl IS NOT NULL)
"""
)

# One row per statement, in the order they run: tables, their rows, constraints
# (keys before the foreign keys that need them), the indexes no constraint owns, then
# the triggers (the audit log's append-only guard, decision 0740).
_TEMPLATE_OBJECTS_SQL = (
    _TEMPLATE_MEMBERS
    + """
SELECT 1, t.relname, NULL, NULL, NULL FROM tables t
UNION ALL
SELECT 2, t.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
FROM tables t JOIN pg_constraint k ON k.conrelid = t.oid
UNION ALL
SELECT 3, t.relname, i.relname, NULL, pg_get_indexdef(x.indexrelid)
FROM tables t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid
                  AND k.conrelid = t.oid AND k.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 4, t.relname, a.attname, NULL,
       pg_get_serial_sequence(format('%%I.%%I', %(template)s::text, t.relname), a.attname)
FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attidentity <> ''
UNION ALL
SELECT 5, t.relname, g.tgname, NULL, pg_get_triggerdef(g.oid)
FROM tables t JOIN pg_trigger g ON g.tgrelid = t.oid WHERE NOT g.tgisinternal
"""
)

_CONSTRAINT_ORDER = {"p": 0, "u": 1, "x": 1, "c": 2, "f": 3}


def clone_template_schema(schema: str) -> None:
    """Create ``schema`` as a copy of the template schema: tables, rows, keys, indexes,
    triggers."""
    template = settings.TENANT_BASE_SCHEMA
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regnamespace::oid, quote_ident(%s)", [template, template])
        namespace, printed_template = cursor.fetchone()
        cursor.execute(_UNSUPPORTED_IN_TEMPLATE_SQL, {"ns": namespace})
        if cursor.fetchone()[0]:
            logger.warning("Template %s holds more than tables: generic clone.", template)
            CloneSchema().clone_schema(template, schema, "DATA", set_connection=False)
            return
        cursor.execute(_TEMPLATE_OBJECTS_SQL, {"ns": namespace, "template": template})
        rows = cursor.fetchall()
        tables = sorted(row[1] for row in rows if row[0] == 1)
        positions = _identity_positions(cursor, [row for row in rows if row[0] == 4])

        src, dst = quote(template), quote(schema)
        # Definitions name other tables of the template with its schema; point them home.
        qualified = re.compile(rf"(REFERENCES|ON(?: ONLY)?) {re.escape(printed_template)}\.")

        def home(definition: str) -> str:
            return qualified.sub(lambda m: f"{m.group(1)} {dst}.", definition)

        statements = [f"CREATE SCHEMA {dst}"]
        for table in tables:
            statements.append(
                f"CREATE TABLE {dst}.{quote(table)} (LIKE {src}.{quote(table)} INCLUDING DEFAULTS"
                " INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS"
                " INCLUDING COMPRESSION)"
            )
            statements.append(
                f"INSERT INTO {dst}.{quote(table)} OVERRIDING SYSTEM VALUE"
                f" SELECT * FROM {src}.{quote(table)}"
            )
        constraints = sorted(
            (row for row in rows if row[0] == 2), key=lambda row: _CONSTRAINT_ORDER[row[3]]
        )
        for _, table, name, _, definition in constraints:
            statements.append(
                f"ALTER TABLE {dst}.{quote(table)} ADD CONSTRAINT {quote(name)} {home(definition)}"
            )
        statements += [home(row[4]) for row in rows if row[0] in (3, 5)]
        for (table, column), (last_value, is_called) in positions.items():
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('{dst}.{quote(table)}', '{column}'),"
                f" {int(last_value)}, {'true' if is_called else 'false'})"
            )
        cursor.execute(";\n".join(statements))


def _identity_positions(cursor, identities) -> dict:
    """Where each identity sequence of the template stands, in one query."""
    if not identities:
        return {}
    parts, params = [], []
    for _schema, table, column, _kind, sequence in identities:
        # ``sequence`` comes quoted as needed from pg_get_serial_sequence.
        parts.append(f"SELECT %s, %s, last_value, is_called FROM {sequence}")
        params += [table, column]
    cursor.execute(" UNION ALL ".join(parts), params)
    return {(table, column): (last, called) for table, column, last, called in cursor.fetchall()}


def suspend_cooperative(cooperative: Cooperative, *, reason: str = "") -> None:
    cooperative.is_active = False
    cooperative.suspended_reason = reason
    cooperative.save(update_fields=["is_active", "suspended_reason"])
    forget_cached_hosts()


def resume_cooperative(cooperative: Cooperative) -> None:
    cooperative.is_active = True
    cooperative.suspended_reason = ""
    cooperative.save(update_fields=["is_active", "suspended_reason"])
    forget_cached_hosts()
