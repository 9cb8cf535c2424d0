"""What a database connection costs: opening one to PostgreSQL directly (a new
backend, cold caches) or to PgBouncer in session mode (a pooled, warm backend),
and a resident's first page queries in a schema on a cold backend or a warm one.

    .venv/bin/python bench/connections_benchmark.py

Needs the database made by bench/tenants_benchmark.py and pgbouncer installed.
"""

import argparse
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_url, existing_bench_codes, report, setup_django, summary  # noqa: E402
from bench.footprint_benchmark import PAGE_QUERIES  # noqa: E402
from bench.load_test import pgbouncer  # noqa: E402


def connect_and_serve(url: str, schemas: list[str], rounds: int) -> dict:
    """Per round: connect, SET search_path to a random cooperative, its page queries, close."""
    import psycopg

    connects, pages = [], []
    rng = random.Random(4)
    for _ in range(rounds):
        start = time.perf_counter()
        conn = psycopg.connect(url, autocommit=True)
        connects.append(time.perf_counter() - start)
        start = time.perf_counter()
        conn.execute(f'SET search_path = "{rng.choice(schemas)}", public')
        for query in PAGE_QUERIES:
            conn.execute(query).fetchall()
        pages.append(time.perf_counter() - start)
        conn.close()
    return {"connect": summary(connects), "page_queries": summary(pages)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--pool", type=int, default=4, help="PgBouncer server connections")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    args = parser.parse_args()

    url = database_url(args.database_url)
    setup_django(url)
    schemas = [code.lower() for code in existing_bench_codes()][:200]
    with ExitStack() as stack:
        pooled = pgbouncer(stack, url, args.pool)
        connect_and_serve(pooled, schemas, len(schemas))  # warm the pool's backends
        result = {
            "schemas": len(schemas),
            "direct_new_backend_each_time": connect_and_serve(url, schemas, args.rounds),
            "pgbouncer_session_mode": connect_and_serve(pooled, schemas, args.rounds),
        }
    report("connections", result)


if __name__ == "__main__":
    main()
