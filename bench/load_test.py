"""Load: residents of many cooperatives browsing dashboard, ledger and documents
while syncs run, against the portal and against a floor.

    .venv/bin/python bench/load_test.py

Phases, each against the portal (gunicorn, deploy/gunicorn.conf.py, the whole
middleware stack and templates) and then the floor (bench/floor: the same
selectors as JSON, no middleware or templates), both served by gunicorn with
the same settings on 127.0.0.1:

- browse:   --users residents (default 200) with --think seconds between pages,
            for --duration seconds (default 120): errors, p50/p95/p99;
- saturate: the same residents with no think time, for --saturate-duration
            seconds: the most requests per second each can serve, their ratio,
            and CPU milliseconds per request of the server processes.

Throughout, a Celery worker on the ``syncs`` queue applies a new ZSI package of
one of the cooperatives every --sync-interval seconds. Uses the benchmark
cooperatives S00001… (made here if missing), a separate Redis database
(--redis-db, flushed at the end), and var/bench/ for logs and results.
"""

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    RESULTS,
    ROOT,
    bench_code,
    database_url,
    ensure_database,
    prepare_public_schema,
    report,
    setup_django,
)

PASSWORD = "Obciazenie-testowe-2026"
VENV_BIN = Path(sys.executable).parent
MAX_SECONDS = 600  # no phase runs longer, whatever is asked
PAGES = ("dashboard", "ledger", "documents")


# --- data ---------------------------------------------------------------------------------


def prepare(cooperatives: int) -> list[dict]:
    """Two residents (with a current premises) per cooperative and a zsi-file inbox."""
    from django.contrib.auth.hashers import make_password
    from django_tenants.utils import schema_context

    from bench.tenants_benchmark import create_missing
    from connectors.services import configure_connector
    from connectors.zsi_file import default_folder
    from ebok import selectors
    from ebok.accounts.models import User
    from ebok.models import Title
    from tenants.models import Cooperative

    codes = [bench_code(number) for number in range(1, cooperatives + 1)]
    if Cooperative.objects.filter(code__in=codes).count() < cooperatives:
        create_missing(cooperatives, "package", 20, 1)
    password = make_password(PASSWORD)  # one hash for all: logging in costs what it costs
    accounts = []
    for cooperative in Cooperative.objects.filter(code__in=codes).order_by("code"):
        with schema_context(cooperative.schema_name):
            people = Title.objects.order_by("person_id").values_list("person_id", flat=True)
            for number, person in enumerate(list(dict.fromkeys(people))[:2], start=1):
                user, _ = User.objects.update_or_create(
                    login=f"mieszkaniec{number}",
                    defaults={
                        "kind": User.Kind.RESIDENT,
                        "person_source_id": person,
                        "password": password,
                        "rules_accepted_version": cooperative.rules_version,
                        "must_change_password": False,
                        "blocked_at": None,
                        "is_active": True,
                    },
                )
                premises = selectors.current_premises(user).first()
                if premises is not None:
                    accounts.append(
                        {
                            "code": cooperative.code,
                            "host": f"{cooperative.schema_name}.localhost",
                            "login": user.login,
                            "user": user.pk,
                            "premises": premises.pk,
                        }
                    )
        inbox = default_folder(cooperative.code, "inbox")
        inbox.mkdir(parents=True, exist_ok=True)
        configure_connector(cooperative, connector="zsi-file", config={"inbox": str(inbox)})
    return accounts


def statements_per_page(account: dict) -> dict:
    """SQL statements of each page, portal and floor, for one resident (in-process)."""
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from bench.floor import views as floor

    client = Client(HTTP_HOST=account["host"])
    response = client.post("/login/", {"username": account["login"], "password": PASSWORD})
    assert response.status_code == 302, f"login answered {response.status_code}"
    portal_paths = {
        "dashboard": "/",
        "ledger": f"/lokale/{account['premises']}/rozrachunki/",
        "documents": "/dokumenty/",
    }
    floor_calls = {
        "dashboard": (floor.dashboard, "/floor/dashboard", {}),
        "ledger": (floor.ledger, "/floor/ledger", {"premises_id": account["premises"]}),
        "documents": (floor.documents, "/floor/documents", {}),
    }
    factory = RequestFactory()
    counts = {}
    for page in PAGES:
        client.get(portal_paths[page])  # warm: the host cache, the session in Redis
        with CaptureQueriesContext(connection) as portal:
            assert client.get(portal_paths[page]).status_code == 200
        view, path, kwargs = floor_calls[page]
        request = factory.get(path, {"user": account["user"]}, HTTP_HOST=account["host"])
        with CaptureQueriesContext(connection) as bare:
            assert view(request, **kwargs).status_code == 200
        counts[page] = {"portal": len(portal), "floor": len(bare)}
        counts[page]["portal_statements"] = [q["sql"][:90] for q in portal.captured_queries]
    connection.set_schema_to_public()
    return counts


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(url: str, redis_url: str, workers: int, threads: int, conn_max_age: int) -> dict:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DB_CONN_MAX_AGE=str(conn_max_age),
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        BASE_DOMAIN="localhost",
        PRIVATE_STORAGE_ROOT=os.environ["PRIVATE_STORAGE_ROOT"],
        CONNECTOR_ROOT=os.environ["CONNECTOR_ROOT"],
        GUNICORN_WORKERS=str(workers),
        GUNICORN_THREADS=str(threads),
        DJANGO_SETTINGS_MODULE="ebok_platform.settings",
        PYTHONUNBUFFERED="1",
    )
    env.pop("GUNICORN_ACCESS_LOG", None)
    return env


@contextmanager
def running(args: list, env: dict, log_name: str):
    with open(RESULTS / f"{log_name}.log", "wb") as log:
        proc = subprocess.Popen(
            [str(arg) for arg in args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def gunicorn(stack: ExitStack, app: str, env: dict, name: str) -> tuple[int, subprocess.Popen]:
    port = free_port()
    args = [VENV_BIN / "gunicorn", app, "--config", ROOT / "deploy" / "gunicorn.conf.py"]
    proc = stack.enter_context(running([*args, "--bind", f"127.0.0.1:{port}"], env, name))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port, proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited; see var/bench/{name}.log") from None
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not listen within 60 s")


PGBOUNCER_INI = """[databases]
* = host=127.0.0.1 port={db_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = session
default_pool_size = {pool}
max_client_conn = 1000
server_reset_query = DISCARD ALL
server_lifetime = 3600
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def pgbouncer(stack: ExitStack, url: str, pool: int) -> str:
    """PgBouncer in session mode in front of ``url``; returns the URL through it."""

    parsed = urlparse(url)
    folder = Path(tempfile.mkdtemp(prefix="bench-pgbouncer-"))
    port = free_port()
    (folder / "users.txt").write_text(f'"{parsed.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        PGBOUNCER_INI.format(db_port=parsed.port or 5432, port=port, pool=pool, folder=folder)
    )
    for path in [folder, *folder.iterdir()]:
        shutil.chown(path, "postgres")  # its log and pid files are written as postgres
    # PgBouncer refuses to run as root: it drops to the postgres user.
    args = ["pgbouncer", "-u", "postgres", str(folder / "pgbouncer.ini")]
    stack.enter_context(running(args, dict(os.environ), "load-pgbouncer"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return parsed._replace(netloc=f"{parsed.username}@127.0.0.1:{port}").geturl()
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("pgbouncer did not listen")


def cpu_seconds(proc: subprocess.Popen) -> float:
    """User + system CPU of a server and its workers, so far: the live ones and
    those that ended (gunicorn replaces a worker every max_requests; once reaped,
    its CPU counts in the master's children times)."""
    import psutil

    root = psutil.Process(proc.pid)
    ended = root.cpu_times()
    total = ended.children_user + ended.children_system
    for member in [root, *root.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


class DatabaseCpu(threading.Thread):
    """User + system CPU so far of the PostgreSQL backends serving ``database``,
    ended ones included: backends come and go (CONN_MAX_AGE is shorter than a
    phase), so each one's CPU is sampled every half second and kept."""

    def __init__(self, database: str):
        super().__init__(daemon=True)
        self.database = database
        self.seen: dict[tuple[int, float], float] = {}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(0.5):
            self.sample()

    def sample(self) -> None:
        import psutil

        for process in psutil.process_iter(["name", "cmdline", "create_time"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if process.info["name"] == "postgres" and f" {self.database} " in f"{cmdline} ":
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                key = (process.pid, process.info["create_time"])
                self.seen[key] = times.user + times.system

    def __call__(self) -> float:
        self.sample()
        return sum(self.seen.values())


def rss_mib(proc: subprocess.Popen) -> list[float]:
    import psutil

    children = psutil.Process(proc.pid).children(recursive=True)
    return [round(child.memory_info().rss / 2**20, 1) for child in children]


# --- syncs while the residents browse -----------------------------------------------------


class SyncDriver(threading.Thread):
    """Every ``interval`` seconds: a new full package into the next cooperative's
    inbox, and its sync task onto the ``syncs`` queue."""

    def __init__(self, codes: list[str], interval: float):
        super().__init__(daemon=True)
        self.codes, self.interval = codes, interval
        self.halt = threading.Event()
        self.sent = 0
        self.errors: list[str] = []

    def run(self):
        from django.db import connection
        from django_tenants.utils import schema_context

        from connectors.tasks import enqueue_sync
        from connectors.zsi.generator import generate_full
        from connectors.zsi_file import default_folder
        from ebok import selectors
        from tenants.models import Cooperative

        cooperatives = list(Cooperative.objects.filter(code__in=self.codes).order_by("code"))
        numbers = {}
        for cooperative in cooperatives:
            with schema_context(cooperative.schema_name):
                freshness = selectors.data_freshness()
                numbers[cooperative.code] = freshness.package_number if freshness else 0
        for cooperative in itertools.cycle(cooperatives):
            if self.halt.wait(self.interval):
                break
            try:
                numbers[cooperative.code] += 1
                inbox = default_folder(cooperative.code, "inbox")
                with tempfile.TemporaryDirectory(dir=inbox.parent) as folder:
                    package = generate_full(
                        Path(folder) / "package",
                        premises=20,
                        years=1,
                        seed=int(cooperative.code[1:]),  # as first imported: same premises
                        code=cooperative.code,
                        number=numbers[cooperative.code],
                        as_of=dt.date.today(),
                        encoding="CP1250",
                        documents=True,
                    )
                    os.rename(package, inbox / f"{numbers[cooperative.code]:08d}")
                enqueue_sync(cooperative, trigger="schedule")
                self.sent += 1
            except Exception as error:  # a benchmark reports a failed sync, it does not stop
                self.errors.append(repr(error))
        connection.close()


def sync_outcomes(codes: list[str], since: dt.datetime) -> dict:
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from connectors.models import SyncRun
    from tenants.models import Cooperative

    outcomes: dict[str, int] = {}
    durations = []
    for cooperative in Cooperative.objects.filter(code__in=codes):
        with schema_context(cooperative.schema_name):
            runs = SyncRun.objects.filter(started_at__gte=since)
            for row in runs.values("outcome").annotate(n=Count("id")):
                outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + row["n"]
            durations += [
                ms for ms in runs.filter(outcome="applied").values_list("duration_ms", flat=True)
            ]
    durations.sort()
    return {
        "outcomes": outcomes,
        "applied_median_ms": durations[len(durations) // 2] if durations else None,
    }


def warm_up(ports: dict, accounts: list[dict]) -> None:
    """Every server process imports, compiles templates and opens its connections
    before anything is measured: a few residents visit every page a few times."""
    import httpx

    for account in accounts[:12]:
        headers = {"Host": account["host"]}
        paths = {
            "portal": ["/", f"/lokale/{account['premises']}/rozrachunki/", "/dokumenty/"],
            "floor": [
                "/floor/dashboard",
                f"/floor/ledger/{account['premises']}",
                "/floor/documents",
            ],
        }
        for target, port in ports.items():
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
            ) as client:
                params = {"user": account["user"]} if target == "floor" else None
                if target == "portal":
                    form = client.get("/login/").text
                    token = form.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"')[0]
                    client.post(
                        "/login/",
                        data={
                            "username": account["login"],
                            "password": PASSWORD,
                            "csrfmiddlewaretoken": token,
                        },
                    )
                for _ in range(3):
                    for path in paths[target]:
                        response = client.get(path, params=params)
                        if response.status_code != 200:
                            raise RuntimeError(f"{target} {path}: {response.status_code}")


# --- locust -------------------------------------------------------------------------------


def run_locust(
    *,
    target: str,
    port: int,
    users: int,
    seconds: int,
    think: str,
    accounts: Path,
    name: str,
    meters: dict,
) -> dict:
    """Locust headless against 127.0.0.1:port. Its statistics, and the CPU ``meters``
    (name → function of CPU seconds so far), cover the time after every user has
    started (and logged in: Argon2 is expensive on purpose)."""
    seconds = min(seconds, MAX_SECONDS)
    rate = 20
    prefix = RESULTS / f"load-{name}"
    env = dict(
        os.environ,
        LOAD_TARGET=target,
        LOAD_USERS=str(accounts),
        LOAD_PASSWORD=PASSWORD,
        LOAD_THINK=think,
    )
    spawn = users // rate + 1
    args = [
        VENV_BIN / "locust",
        "-f",
        ROOT / "bench" / "locustfile.py",
        "--headless",
        "--users",
        users,
        "--spawn-rate",
        rate,
        "--run-time",
        f"{seconds + spawn}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        prefix,
        "--reset-stats",
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    with open(RESULTS / f"load-{name}-locust.log", "wb") as log:
        locust = subprocess.Popen(
            [str(arg) for arg in args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        time.sleep(spawn)
        before = {meter: read() for meter, read in meters.items()}
        # locust exits 1 when any request failed: the failures are reported below.
        locust.wait(timeout=seconds + 120)
        used = {meter: read() - before[meter] for meter, read in meters.items()}
    with open(f"{prefix}_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    with open(f"{prefix}_failures.csv") as failures:
        failed = [
            f"{row['Occurrences']}× {row['Name']}: {row['Error']}"
            for row in csv.DictReader(failures)
        ]

    def figures(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 1),
            "mean_ms": round(float(row["Average Response Time"]), 1),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "max_ms": round(float(row["Max Response Time"]), 1),
        }

    requests = int(rows["Aggregated"]["Request Count"]) or 1
    return {
        "all_pages": figures(rows["Aggregated"]),
        "by_page": {page: figures(rows[page]) for page in PAGES if page in rows},
        "failures": failed[:10],
        "seconds": seconds,
        **{
            f"{meter}_cpu_ms_per_request": round(cpu / requests * 1000, 2)
            for meter, cpu in used.items()
        },
    }


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--cooperatives", type=int, default=100)
    parser.add_argument("--duration", type=int, default=120, help="browse phase, seconds")
    parser.add_argument("--saturate-duration", type=int, default=60, help="0: skip the phase")
    parser.add_argument("--think", default="1-5", help="seconds between pages, MIN-MAX")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--sync-interval", type=float, default=2.0, help="0: no syncs")
    parser.add_argument("--targets", default="portal,floor")
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--conn-max-age", type=int, default=60, help="servers' DB_CONN_MAX_AGE")
    parser.add_argument(
        "--pgbouncer",
        type=int,
        default=0,
        help="servers connect through PgBouncer (session"
        " mode) with this server pool size; 0: directly",
    )
    parser.add_argument("--name", default="load", help="name of the result file")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    args = parser.parse_args()

    url = database_url(args.database_url)
    database = urlparse(url).path.lstrip("/")
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    ensure_database(url)  # a fresh bench database is built here, cooperatives included
    setup_django(url, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
    prepare_public_schema(url)
    accounts = prepare(args.cooperatives)
    accounts_file = RESULTS / "load-accounts.json"
    accounts_file.write_text(json.dumps(accounts))
    statements = statements_per_page(accounts[0])
    codes = sorted({account["code"] for account in accounts})
    targets = [target for target in args.targets.split(",") if target]
    result = {
        "users": args.users,
        "cooperatives": len(codes),
        "accounts": len(accounts),
        "think_seconds": args.think,
        "gunicorn": {"workers": args.workers, "threads": args.threads, "class": "gthread"},
        "database": {
            "conn_max_age": args.conn_max_age,
            "pgbouncer_session_pool": args.pgbouncer or None,
        },
        "statements_per_page": {
            page: {key: value for key, value in counts.items() if key != "portal_statements"}
            for page, counts in statements.items()
        },
        "portal_statements_of_dashboard": statements["dashboard"]["portal_statements"],
    }
    started = dt.datetime.now(dt.UTC)
    with ExitStack() as stack:
        server_url = pgbouncer(stack, url, args.pgbouncer) if args.pgbouncer else url
        env = server_env(server_url, redis_url, args.workers, args.threads, args.conn_max_age)
        floor_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}
        servers = {
            "portal": gunicorn(stack, "ebok_platform.wsgi:application", env, "load-portal"),
            "floor": gunicorn(stack, "bench.floor.wsgi:application", floor_env, "load-floor"),
        }
        warm_up({target: port for target, (port, _) in servers.items()}, accounts)
        database_cpu = DatabaseCpu(database)
        database_cpu.start()
        stack.callback(database_cpu.halt.set)
        driver = None
        if args.sync_interval > 0:
            worker = celery_worker_args()
            stack.enter_context(running(worker, env, "load-celery"))
            driver = SyncDriver(codes, args.sync_interval)
            driver.start()
            stack.callback(driver.join, 30)
            stack.callback(driver.halt.set)
        phases = [("browse", args.think, args.duration)] if args.duration else []
        if args.saturate_duration:
            phases.append(("saturate", "0-0", args.saturate_duration))
        for phase, think, seconds in phases:
            for target in targets:
                port, proc = servers[target]
                figures = run_locust(
                    target=target,
                    port=port,
                    users=args.users,
                    seconds=seconds,
                    think=think,
                    accounts=accounts_file,
                    name=f"{args.name}-{phase}-{target}",
                    meters={
                        "server": lambda proc=proc: cpu_seconds(proc),
                        "database": database_cpu,
                    },
                )
                figures["server_rss_mib"] = rss_mib(proc)
                result.setdefault(phase, {})[target] = figures
                print(phase, target, figures["all_pages"], flush=True)
        if driver is not None:
            driver.halt.set()
            driver.join(30)
            time.sleep(5)  # let the last sync finish
            result["syncs"] = {
                "enqueued": driver.sent,
                "driver_errors": driver.errors[:5],
                **sync_outcomes(codes, started),
            }
    saturate = result.get("saturate", {})
    if {"portal", "floor"} <= saturate.keys():
        portal, floor = saturate["portal"], saturate["floor"]
        result["throughput_ratio_floor_to_portal"] = round(
            floor["all_pages"]["rps"] / max(portal["all_pages"]["rps"], 0.1), 2
        )

        def cpu(figures: dict) -> float:
            return figures["server_cpu_ms_per_request"] + figures["database_cpu_ms_per_request"]

        result["cpu_ratio_portal_to_floor"] = round(cpu(portal) / max(cpu(floor), 0.01), 2)
    flush_redis(args.redis_db)
    report(args.name, result)


def celery_worker_args() -> list:
    return [
        VENV_BIN / "celery",
        "-A",
        "ebok_platform",
        "worker",
        "-Q",
        "syncs",
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "-n",
        "loadsyncs@%h",
        "--loglevel",
        "WARNING",
    ]


def flush_redis(db: int) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


if __name__ == "__main__":
    main()
