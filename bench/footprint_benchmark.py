"""Per-cooperative footprints: catalog and disk of an empty schema, data per 1,000
premises, and the memory of one PostgreSQL backend as it serves more schemas.

    .venv/bin/python bench/footprint_benchmark.py

Needs the database made by bench/tenants_benchmark.py. Imports one generated
package of --premises premises (default 1,000) into a cooperative FOOTPRINT made
for the purpose (removed afterwards), and touches every benchmark cooperative's
schema from one connection the way a web worker's connection does.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    database_url,
    existing_bench_codes,
    import_generated_package,
    report,
    setup_django,
    summary,
    timed,
)

SCHEMA_BYTES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), count(*)
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %s::regnamespace
  AND d.deptype = 'n'
"""
CATALOG_BYTES = """
SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r'
"""
TABLE_SIZES = """
SELECT c.relname, pg_total_relation_size(c.oid)
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %s::regnamespace
  AND d.deptype = 'n' AND c.relkind = 'r' AND c.relname LIKE 'ebok_%%'
ORDER BY 2 DESC
"""
# What a resident's pages ask of a schema (user, dashboard, ledger, documents):
# enough to load every relation and index those pages need into the backend's caches.
PAGE_QUERIES = [
    "SELECT id, login FROM accounts_user WHERE id = 1",
    """SELECT p.id, b.amount, (SELECT sum(amount) FROM ebok_charge c
                                WHERE c.premises_id = p.source_id)
       FROM ebok_premises p LEFT JOIN ebok_balance b ON b.premises_id = p.source_id
       WHERE EXISTS (SELECT 1 FROM ebok_title t WHERE t.premises_id = p.source_id
                     AND t.person_id = 'O1' AND t.valid_from <= now())""",
    "SELECT package_number, as_of FROM ebok_data_freshness ORDER BY package_number DESC LIMIT 1",
    """SELECT source_id, posted_on, debit - credit FROM ebok_ledger_entry
       WHERE premises_id = 'L1' ORDER BY posted_on, position LIMIT 25""",
    """SELECT id, title FROM ebok_document WHERE premises_id IS NULL OR premises_id = 'L1'
       ORDER BY issued_on DESC, id DESC LIMIT 20""",
]


def one(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def mib(value: float) -> float:
    return round(float(value) / 2**20, 2)


def empty_and_catalog() -> dict:
    from django.conf import settings

    from tenants.models import Cooperative

    template_bytes, relations = one(SCHEMA_BYTES, [settings.TENANT_BASE_SCHEMA])
    schemas = Cooperative.objects.count() + 1  # + the template
    catalog = one(CATALOG_BYTES)[0]
    return {
        "tables_and_sequences_per_schema": relations,
        "empty_schema_disk_kib": round(float(template_bytes) / 1024, 1),
        "schemas": schemas,
        "system_catalogs_mib": mib(catalog),
        "system_catalogs_kib_per_schema": round(float(catalog) / 1024 / schemas, 1),
    }


def data_per_premises(premises: int, years: int) -> dict:
    from django.db import connection

    from tenants.models import Cooperative
    from tenants.services import onboard_cooperative

    Cooperative.objects.filter(code="FOOTPRINT").delete()
    cooperative = onboard_cooperative(code="FOOTPRINT", name="Pomiar")
    try:
        empty = one(SCHEMA_BYTES, [cooperative.schema_name])[0]
        with timed() as elapsed:
            import_generated_package(cooperative.code, premises=premises, years=years, seed=7)
        full = one(SCHEMA_BYTES, [cooperative.schema_name])[0]
        tables = {}
        with connection.cursor() as cursor:
            cursor.execute(TABLE_SIZES, [cooperative.schema_name])
            for name, size in cursor.fetchall()[:6]:
                cursor.execute(f'SELECT count(*) FROM "{cooperative.schema_name}"."{name}"')
                tables[name] = {"rows": cursor.fetchone()[0], "mib": mib(size)}
        per_thousand = (float(full) - float(empty)) / premises * 1000
        return {
            "premises": premises,
            "years": years,
            "import_seconds": round(elapsed(), 1),
            "data_mib": mib(float(full) - float(empty)),
            "data_mib_per_1000_premises": mib(per_thousand),
            "largest_tables": tables,
        }
    finally:
        cooperative.delete(force_drop=True)


def backend_memory(step: int) -> dict:
    """One connection visits every benchmark schema (SET search_path + a dashboard-like
    query); its backend's private memory and cache contexts are read as it goes."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    schemas = [code.lower() for code in existing_bench_codes()]
    dsn = f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"
    points, first_touch, second_touch = [], [], []
    with psycopg.connect(dsn, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]

        def measure(touched: int) -> None:
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            contexts = conn.execute(
                "SELECT sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext'"
                " OR parent = 'CacheMemoryContext'), sum(total_bytes)"
                " FROM pg_backend_memory_contexts"
            ).fetchone()
            points.append(
                {
                    "schemas_touched": touched,
                    "rss_anon_mib": round(int(fields["RssAnon"].split()[0]) / 1024, 1),
                    "cache_contexts_mib": mib(contexts[0] or 0),
                    "all_contexts_mib": mib(contexts[1] or 0),
                }
            )

        measure(0)
        for touched, schema in enumerate(schemas, start=1):
            conn.execute(f'SET search_path = "{schema}", public')
            for times in (first_touch, second_touch):
                start = time.perf_counter()
                for query in PAGE_QUERIES:
                    conn.execute(query).fetchall()
                times.append(time.perf_counter() - start)
            if touched % step == 0 or touched == len(schemas):
                measure(touched)
    grown = points[-1]["rss_anon_mib"] - points[0]["rss_anon_mib"]
    return {
        "backend_pid_readable": os.path.exists(f"/proc/{pid}/status"),
        "points": points,
        "rss_anon_kib_per_schema": round(grown * 1024 / max(len(schemas), 1), 1),
        "page_queries_first_in_schema": summary(first_touch),
        "page_queries_again": summary(second_touch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=1000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--step", type=int, default=500, help="memory reading every N schemas")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    args = parser.parse_args()

    setup_django(database_url(args.database_url))
    report(
        "footprint",
        {
            "per_schema": empty_and_catalog(),
            "data": data_per_premises(args.premises, args.years),
            "backend": backend_memory(args.step),
        },
    )


if __name__ == "__main__":
    main()
