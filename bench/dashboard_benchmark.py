"""Server time of the residents' dashboard for a person with 3 premises × 10
years of ledger (and, for reference, the ledger, charts and CSV export).

    .venv/bin/python bench/dashboard_benchmark.py [--iterations 300]

Requests go through Django's test client: the whole middleware stack (host
routing, session, authentication, CSP), the views, the queries and the
templates; no network and no gunicorn. A dedicated database (default
``ebok_portal_bench``) is made afresh and dropped at the end (``--keep``
keeps it). Figures are printed and kept in ``var/bench/dashboard.json``.
"""

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    database_url,
    drop_database,
    prepare_public_schema,
    report,
    setup_django,
    summary,
    timed,
)

CODE = "PBENCH"
HOST = "pbench.localhost"


def build_resident(years: int):
    """A cooperative with one resident holding three premises, each with
    ``years`` of monthly charges (5 components), payments and settlements."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenants.services import onboard_cooperative
    from tests.portal.history import add_history
    from tests.support import data

    cooperative = onboard_cooperative(code=CODE, name="Spółdzielnia Mieszkaniowa „Pomiar”")
    today = timezone.localdate()
    with schema_context(cooperative.schema_name):
        person = data.make_person("B1", "Pomiarowa", "Ewa")
        rows, flats = 0, []
        for number, kind in ((1, "M"), (2, "G"), (3, "P")):
            premises = data.make_premises(f"BL{number}", number=number, kind=kind)
            data.give_title(person, premises, valid_from=date(today.year - years, 1, 1))
            data.set_balance(premises, "431.27", as_of=today)  # owed: the QR code is drawn
            rows += add_history(premises, years=years, end=today, documents=20)
            flats.append(premises.pk)
        data.mark_fresh(as_of=today)
        user = data.make_resident(person)
    return cooperative, user, rows, flats[0]


def logged_in_client(cooperative, user):
    from django.test import Client
    from django_tenants.utils import schema_context

    client = Client(HTTP_HOST=HOST)
    with schema_context(cooperative.schema_name):
        client.force_login(user, backend="ebok.accounts.backends.AccountBackend")
    return client


def measure(client, url: str, iterations: int, warmup: int = 20) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    # Read now: the next request empties the connection's query log.
    round_trips = [q["sql"] for q in queries]
    statements = [sql for sql in round_trips if not sql.startswith("SET search_path")]
    durations = []
    for _ in range(iterations):
        with timed() as elapsed:
            response = client.get(url)
        assert response.status_code == 200, url
        durations.append(elapsed())
    return {
        "url": url,
        "queries": len(statements),
        "round_trips": len(round_trips),
        **summary(durations),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/ebok_portal_bench"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = database_url(args.database_url)
    drop_database(url)
    setup_django(url, TENANT_CACHE_SECONDS=3600)
    try:
        prepare_public_schema(url)
        with timed() as setup_time:
            cooperative, user, rows, premises_id = build_resident(args.years)
        client = logged_in_client(cooperative, user)
        pages = {
            "dashboard": ("/", args.iterations),
            "ledger": (f"/lokale/{premises_id}/rozrachunki/?period=all&page=5", args.iterations),
            "charts": (f"/lokale/{premises_id}/wykresy/", args.iterations // 3),
            "ledger_csv_all_years": (f"/lokale/{premises_id}/rozrachunki.csv?period=all", 20),
        }
        results = {name: measure(client, path, n) for name, (path, n) in pages.items()}
        report(
            "dashboard",
            {
                "premises": 3,
                "years": args.years,
                "ledger_entries": rows,
                "setup_s": round(setup_time(), 1),
                "pages": results,
            },
        )
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
