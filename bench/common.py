"""What every scale benchmark shares: a dedicated database, Django set up against
it, small generated data per cooperative, and figures printed and kept as JSON.

The benchmarks never touch the test or demo databases: the database name must
say it is for benchmarks (it contains ``scale`` or ``bench``).
"""

import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ebok_scale"
CODE_PREFIX = "S"  # cooperatives made by the benchmarks: S00001, S00002, …


def database_url(value: str | None = None) -> str:
    url = value or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    name = urlparse(url).path.lstrip("/")
    if name.startswith("test_") or not ({"scale", "bench"} & set(name.split("_"))):
        raise SystemExit(f"Refusing database {name!r}: use a dedicated one, e.g. ebok_scale.")
    return url


def ensure_database(url: str) -> bool:
    """Create the database if missing; True when it was created."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
        return True


def drop_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def setup_django(url: str, **env) -> None:
    """Point the project at ``url`` and set Django up (once per process)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebok_platform.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "0")  # DEBUG keeps every query in memory: not a figure
    # Files of generated packages stay with the benchmark's results, never in var/files.
    os.environ.setdefault("PRIVATE_STORAGE_ROOT", str(RESULTS / "files"))
    os.environ.setdefault("CONNECTOR_ROOT", str(RESULTS / "connectors"))
    for key, value in env.items():
        os.environ[key] = str(value)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare_public_schema(url: str) -> None:
    """Create the database, migrate the shared apps and the template schema."""
    from django.core.management import call_command

    from tenants.services import ensure_template_schema

    ensure_database(url)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    ensure_template_schema()


def bench_code(number: int) -> str:
    return f"{CODE_PREFIX}{number:05d}"


def bench_host(code: str) -> str:
    from tenants.subdomains import domain_for_code

    return domain_for_code(code)


def existing_bench_codes() -> list[str]:
    from tenants.models import Cooperative

    return list(
        Cooperative.objects.filter(code__regex=rf"^{CODE_PREFIX}[0-9]{{5}}$")
        .order_by("code")
        .values_list("code", flat=True)
    )


def import_generated_package(code: str, *, premises: int, years: int, seed: int) -> None:
    """Small generated data the way a cooperative gets it: a ZSI package, imported."""
    import io
    import tempfile

    from django.core.management import call_command
    from django.db import connection

    with tempfile.TemporaryDirectory(prefix="bench-zsi-") as folder:
        out = io.StringIO()
        call_command(
            "generate_zsi_package",
            f"{folder}/package",
            premises=premises,
            years=years,
            seed=seed,
            code=code,
            stdout=out,
        )
        try:
            call_command("import_package", out.getvalue().strip(), cooperative=code, stdout=out)
        finally:
            connection.set_schema_to_public()  # the command leaves the cooperative's schema set


def package_tools_available() -> bool:
    commands = ROOT / "connectors" / "management" / "commands"
    return all(
        (commands / f"{name}.py").exists() for name in ("generate_zsi_package", "import_package")
    )


# Small generated data, written in one statement per table (set-based, like the
# package import), for when the package generator is not there (--data sql).
SEED_SQL = """
INSERT INTO {s}.ebok_premises
    (source_id, account_number, kind, street_address, unit_number, postal_code, city, area,
     bank_account)
SELECT 'L' || i, '01-' || lpad(i::text, 5, '0'), 'M', 'ul. Testowa ' || (i / 40 + 1),
       (i % 40 + 1)::text, '55-200', 'Oława', 30 + (i % 50), lpad(i::text, 26, '0')
FROM generate_series(1, {n}) AS i;
INSERT INTO {s}.ebok_person (source_id, last_name, first_name, email, phone,
                             correspondence_address)
SELECT 'O' || i, 'Nowak' || i, 'Jan', '', '', '' FROM generate_series(1, {n}) AS i;
INSERT INTO {s}.ebok_title (person_id, premises_id, kind, valid_from)
SELECT 'O' || i, 'L' || i, 'W', DATE '2010-01-01' FROM generate_series(1, {n}) AS i;
INSERT INTO {s}.ebok_balance (premises_id, amount, as_of)
SELECT 'L' || i, (i % 7) * 10.5, CURRENT_DATE FROM generate_series(1, {n}) AS i;
INSERT INTO {s}.ebok_charge (premises_id, component, name, base, unit, rate, amount, valid_from)
SELECT 'L' || i, c, 'Składnik ' || c, 50, 'm2', 1.5, 75.00, DATE '2025-01-01'
FROM generate_series(1, {n}) AS i, unnest(ARRAY['EKSP', 'FREM', 'WODA', 'CO', 'SMIECI']) AS c;
INSERT INTO {s}.ebok_ledger_entry
    (source_id, premises_id, posted_on, kind, component, description, debit, credit)
SELECT 'Z' || i || '-' || m || k, 'L' || i,
       (date_trunc('month', CURRENT_DATE) - (m || ' months')::interval)::date + (k * 9),
       CASE k WHEN 0 THEN 'NAL' ELSE 'WPL' END, '', 'Miesiąc ' || m,
       CASE k WHEN 0 THEN 375.00 ELSE 0 END, CASE k WHEN 1 THEN 370.00 ELSE 0 END
FROM generate_series(1, {n}) AS i, generate_series(0, {months} - 1) AS m,
     generate_series(0, 1) AS k;
INSERT INTO {s}.ebok_document
    (source_id, premises_id, kind, title, issued_on, file_name, sha256, stored_path)
SELECT 'D' || i || '-' || y, 'L' || i, 'ZAW', 'Zawiadomienie ' || y, make_date(y, 1, 15),
       'zaw.pdf', repeat('0', 64), 'documents/none.pdf'
FROM generate_series(1, {n}) AS i, generate_series(2024, 2026) AS y;
INSERT INTO {s}.ebok_data_freshness (package_number, as_of, applied_at, checksum)
VALUES (1, CURRENT_DATE, now(), repeat('0', 64));
"""


def seed_small_data(schema: str, premises: int = 20, months: int = 12) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL.format(s=f'"{schema}"', n=int(premises), months=int(months)))


def summary(values: list[float]) -> dict:
    """Mean, median, p95, p99 and max, in milliseconds, of durations in seconds."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "n": len(values),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
        "p50_ms": round(pct(50) * 1000, 3),
        "p95_ms": round(pct(95) * 1000, 3),
        "p99_ms": round(pct(99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


@contextmanager
def timed():
    """``with timed() as t: ...`` then ``t()`` is the elapsed seconds."""
    start = time.perf_counter()
    end = None

    def elapsed() -> float:
        return (end or time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def report(name: str, result: dict) -> None:
    """Print the figures and keep them in var/bench/<name>.json."""
    result = {"bench": name, "machine": machine(), **result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str), flush=True)
