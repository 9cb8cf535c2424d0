"""Many cooperatives: onboarding time as their number grows, and one more at N.

    .venv/bin/python bench/tenants_benchmark.py --count 1000

Creates cooperatives S00001…S<N> (only the missing ones: a run can continue a
previous one) in a dedicated database, each with small generated data, and
reports the time per onboarding by hundreds, then onboards (and removes) one
more cooperative ``--trials`` times with N in place, splitting its time into
the schema clone, the other SQL and Python.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    bench_code,
    database_url,
    drop_database,
    ensure_database,
    existing_bench_codes,
    import_generated_package,
    package_tools_available,
    prepare_public_schema,
    report,
    seed_small_data,
    setup_django,
    summary,
    timed,
)


class SqlClock:
    """Splits the database time of an onboarding: catalog reads of the template,
    the clone's DDL batch (or django-tenants' clone_schema call), everything else."""

    def __init__(self):
        self.seconds = {"template_catalog": 0.0, "clone_ddl": 0.0, "other_sql": 0.0}
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        with timed() as elapsed:
            result = execute(sql, params, many, context)
        if sql.startswith("CREATE SCHEMA") or "clone_schema(" in sql:
            part = "clone_ddl"
        elif "%(ns)s" in sql or "regnamespace" in sql or "last_value, is_called" in sql:
            part = "template_catalog"
        else:
            part = "other_sql"
        self.seconds[part] += elapsed()
        self.statements += 1
        return result


def catalog_counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM pg_namespace), (SELECT count(*) FROM pg_class),
                      (SELECT count(*) FROM pg_attribute), pg_database_size(current_database()),
                      (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                       WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r')"""
        )
        namespaces, classes, attributes, db_bytes, catalog_bytes = cursor.fetchone()
    return {
        "schemas": namespaces,
        "pg_class_rows": classes,
        "pg_attribute_rows": attributes,
        "database_mb": round(db_bytes / 2**20, 1),
        "system_catalogs_mb": round(catalog_bytes / 2**20, 1),
    }


def seed(cooperative, number: int, data: str, premises: int, years: int) -> None:
    if data == "package":
        import_generated_package(cooperative.code, premises=premises, years=years, seed=number)
    elif data == "sql":
        seed_small_data(cooperative.schema_name, premises=premises, months=12 * years)


def create_missing(count: int, data: str, premises: int, years: int) -> dict:
    from tenants.services import onboard_cooperative

    existing = set(existing_bench_codes())
    onboarding, seeding, by_hundred = [], [], {}
    for number in range(1, count + 1):
        code = bench_code(number)
        if code in existing:
            continue
        with timed() as elapsed:
            cooperative = onboard_cooperative(code=code, name=f"Spółdzielnia testowa {number}")
        onboarding.append(elapsed())
        by_hundred.setdefault((number - 1) // 100, []).append(elapsed())
        if data != "none":
            with timed() as elapsed:
                seed(cooperative, number, data, premises, years)
            seeding.append(elapsed())
        if number % 100 == 0:
            batch = summary(by_hundred[(number - 1) // 100])
            print(f"{number:6d} cooperatives; last hundred: {batch}", flush=True)
    return {
        "created": len(onboarding),
        "onboarding": summary(onboarding),
        "seeding": summary(seeding),
        "onboarding_mean_ms_by_hundreds": {
            f"{hundred * 100 + 1}-{hundred * 100 + 100}": summary(values)["mean_ms"]
            for hundred, values in sorted(by_hundred.items())
        },
    }


def one_more(trials: int) -> dict:
    """Onboard one more cooperative with N in place, then remove it; ``trials`` times."""
    import time

    from django.db import connection

    from tenants.models import Cooperative
    from tenants.services import onboard_cooperative

    totals, parts, statements = [], {}, []
    for trial in range(trials):
        clock = SqlClock()
        code = f"EXTRA{trial}"
        with connection.execute_wrapper(clock), timed() as elapsed:
            cooperative = onboard_cooperative(code=code, name="Jeszcze jedna")
        totals.append(elapsed())
        for part, seconds in clock.seconds.items():
            parts.setdefault(part, []).append(seconds)
        statements.append(clock.statements)
        cooperative.delete(force_drop=True)
        Cooperative.objects.filter(code=code).delete()
        time.sleep(0.2)
    database = [sum(values) for values in zip(*parts.values(), strict=True)]
    return {
        "total": summary(totals),
        **{part: summary(values) for part, values in parts.items()},
        "python_ms_mean": round((sum(totals) - sum(database)) / len(totals) * 1000, 1),
        "statements": statements[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True, help="cooperatives to have (N)")
    parser.add_argument(
        "--data",
        choices=["package", "sql", "none"],
        default="package" if package_tools_available() else "sql",
        help="small data per cooperative: a generated ZSI package imported (default), or SQL",
    )
    parser.add_argument("--premises", type=int, default=20, help="generated premises each")
    parser.add_argument("--years", type=int, default=1, help="years of history each")
    parser.add_argument("--trials", type=int, default=5, help="one-more onboardings at N")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()

    url = database_url(args.database_url)
    ensure_database(url)
    setup_django(url, TENANT_CACHE_SECONDS=0)
    with timed() as elapsed:
        prepare_public_schema(url)
        created = create_missing(args.count, args.data, args.premises, args.years)
    build_seconds = elapsed()
    result = {
        "count": args.count,
        "data": args.data,
        "premises_each": args.premises,
        "years_each": args.years,
        "build_seconds": round(build_seconds, 1),
        **created,
        "one_more_at_n": one_more(args.trials),
        "catalog": catalog_counts(),
    }
    report(f"tenants-{args.count}", result)
    if args.drop:
        from django.db import connections

        connections.close_all()
        drop_database(url)


if __name__ == "__main__":
    main()
