"""Package import benchmark: a generated ZSI package into a fresh cooperative.

    .venv/bin/python bench/import_benchmark.py --premises 20000 --years 5

Prints rows/s of the full import, the time PostgreSQL needs to COPY the same
ledger CSV into a bare table (same run, same database; measured before and
after the imports, the mean is the yardstick), their ratio, the time
of a delta with about 1 % of the ledger, and the peak RSS of each import
process (ru_maxrss of that child, via os.wait4). Packages are cached under
var/bench/. Uses its own database (BENCH_DATABASE_URL, default ebok_import_bench).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench"
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ebok_import_bench"


def run_child(args: list[str], env: dict) -> tuple[float, int, str]:
    """Run a child; returns (seconds, peak RSS in MiB, stdout)."""
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if proc.returncode not in (0,):
        print(out)
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}")
    return seconds, usage.ru_maxrss // 1024, out


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    name = parsed.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def settle(url: str) -> None:
    """Each timed step starts from a clean server: the previous step's dirty pages are
    written now (CHECKPOINT), not by the checkpointer during the next measurement."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def bare_copy(url: str, ledger_csv: Path) -> float:
    """Seconds PostgreSQL needs to COPY the ledger CSV into a bare table of text columns."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare_ledger")
        cols = ", ".join(f"c{i} text" for i in range(11))
        conn.execute(f"CREATE TABLE bench_bare_ledger ({cols})")
        started = time.monotonic()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY bench_bare_ledger FROM STDIN "
                "(FORMAT csv, DELIMITER ';', HEADER, ENCODING 'WIN1250')"
            ) as copy,
            open(ledger_csv, "rb") as stream,
        ):
            while chunk := stream.read(1024 * 1024):
                copy.write(chunk)
        seconds = time.monotonic() - started
        conn.execute("DROP TABLE bench_bare_ledger")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=20000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--code", default="BENCH")
    parser.add_argument(
        "--delta-share",
        type=float,
        default=0.01,
        help="size of the delta's ledger as a share of the full one (a whole month is ~1/12/years)",
    )
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "ebok_platform.settings",
        "LOG_LEVEL": "WARNING",
        "PRIVATE_STORAGE_ROOT": str(CACHE / "files"),
        "CONNECTOR_ROOT": str(CACHE / "connectors"),
    }
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "DJANGO_SETTINGS_MODULE",
                "LOG_LEVEL",
                "PRIVATE_STORAGE_ROOT",
                "CONNECTOR_ROOT",
            )
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tenants.models import Cooperative
    from tenants.services import onboard_cooperative

    call_command("migrate_schemas", interactive=False, verbosity=0)

    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"zsi-{args.code}-{args.premises}x{args.years}-s{args.seed}"
    full = CACHE / name
    delta = CACHE / f"{name}-delta-{args.delta_share:g}"
    manage = [PYTHON, "manage.py"]
    if not (full / "NAGLOWEK.TXT").exists():
        print(f"generating {full} …", flush=True)
        seconds, rss, _ = run_child(
            manage
            + [
                "generate_zsi_package",
                "--premises",
                str(args.premises),
                "--years",
                str(args.years),
                "--seed",
                str(args.seed),
                "--code",
                args.code,
                str(full),
            ],
            env,
        )
        print(f"  generated in {seconds:.1f} s (peak RSS {rss} MiB)")
    if not (delta / "NAGLOWEK.TXT").exists():
        run_child(
            manage
            + ["generate_zsi_package", "--delta-of", str(full), "--ledger-share"]
            + [str(args.delta_share), str(delta)],
            env,
        )

    # A fresh cooperative every run, with empty document storage (stored PDFs of
    # another size's run would be collected, i.e. deleted, inside the timed import).
    old = Cooperative.objects.filter(code=args.code).first()
    if old is not None:
        schema = old.schema_name
        old.delete()
        with connection.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    cooperative = onboard_cooperative(code=args.code, name=f"Benchmark {args.code}")
    shutil.rmtree(CACHE / "files" / cooperative.schema_name, ignore_errors=True)

    ledger_csv = full / "ROZRACHUNKI.CSV"
    with open(ledger_csv, "rb") as stream:
        ledger_rows = (
            sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b"")) - 1
        )
    package_rows = 0
    for line in (full / "NAGLOWEK.TXT").read_text().splitlines():
        if line.startswith("PLIK="):
            package_rows += int(line.split(";")[1])

    # The yardstick, measured before and after the imports (the machine is shared:
    # its load changes during a run); the ratio uses their mean.
    settle(url)
    bare_copies = [bare_copy(url, ledger_csv)]
    settle(url)
    full_seconds, full_rss, out = run_child(
        manage + ["import_package", "--cooperative", args.code, str(full)], env
    )
    assert out.startswith("applied"), out
    settle(url)
    delta_seconds, delta_rss, out = run_child(
        manage + ["import_package", "--cooperative", args.code, str(delta)], env
    )
    assert out.startswith("applied"), out
    settle(url)
    bare_copies.append(bare_copy(url, ledger_csv))
    bare = sum(bare_copies) / len(bare_copies)
    delta_rows = 0
    for line in (delta / "NAGLOWEK.TXT").read_text().splitlines():
        if line.startswith("PLIK=ROZRACHUNKI.CSV"):
            delta_rows = int(line.split(";")[1])

    from django_tenants.utils import schema_context

    from connectors.models import SyncRun

    with schema_context(args.code.lower()):
        runs = list(SyncRun.objects.filter(outcome="applied").order_by("started_at"))
    figures = {
        "premises": args.premises,
        "years": args.years,
        "ledger_rows": ledger_rows,
        "package_rows": package_rows,
        "package_bytes": sum(p.stat().st_size for p in full.rglob("*") if p.is_file()),
        "full_import_s": round(full_seconds, 2),
        "full_import_in_process_ms": runs[0].duration_ms,
        "rows_per_s": round(package_rows / full_seconds),
        "ledger_rows_per_s": round(ledger_rows / full_seconds),
        "bare_copy_ledger_s": round(bare, 2),
        "bare_copy_ledger_runs_s": [round(b, 2) for b in bare_copies],
        "ratio_full_to_bare_copy": round(full_seconds / bare, 2),
        "ratio_in_process_to_bare_copy": round(runs[0].duration_ms / 1000 / bare, 2),
        "delta_ledger_rows": delta_rows,
        "delta_share_of_ledger": round(delta_rows / ledger_rows, 4),
        "delta_import_s": round(delta_seconds, 2),
        "delta_in_process_ms": runs[-1].duration_ms,
        "peak_rss_full_import_mib": full_rss,
        "peak_rss_delta_import_mib": delta_rss,
        "full_timings": runs[0].counts.get("timings"),
        "delta_timings": runs[-1].counts.get("timings"),
    }
    print(json.dumps(figures, indent=2))
    (CACHE / f"import-{args.premises}x{args.years}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
