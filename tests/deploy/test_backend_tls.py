"""The app reaches PostgreSQL and Redis (cache, sessions, Celery broker) over verified TLS.

Both servers run here for real, TLS only, with certificates made by the test; PostgreSQL
uses the deployment's deploy/postgres/pg_hba.conf and Redis the ACL of docker-compose.yml.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import psycopg
import pytest
import redis
import yaml

from tests.support.processes import ROOT, free_port, process_env, running
from tests.support.tls import Authority, wait_for_port

PG_PASSWORD = "pg-Secret-for-the-test-1"
REDIS_PASSWORD = "redis-Secret-for-the-test-1"
SECRET_KEY = "k3#Vq8!xR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sYaa" * 2
# What a process of the app does with each backend, in production settings.
PROBE = """
import sys, django
django.setup()
from django.core.cache import cache
from django.db import connection
from ebok_platform.celery import app
if "db" in sys.argv:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        print("db", *cursor.fetchone())
if "cache" in sys.argv:
    cache.set("tls-probe", "ok", 30)
    print("cache", cache.get("tls-probe"))
if "broker" in sys.argv:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        queue = conn.SimpleQueue("tls-probe")
        queue.put({"probe": 1})
        print("broker", queue.get(timeout=5).payload)
        queue.close()
"""


def as_postgres(args: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def give_to_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


@pytest.fixture(scope="module")
def pki():
    # Not under pytest's own temporary folder: the postgres user must reach it.
    folder = Path(tempfile.mkdtemp(prefix="ebok-backend-tls-"))
    folder.chmod(0o755)
    yield SimpleNamespace(
        folder=folder,
        ca=Authority.create(folder / "ca"),
        other=Authority.create(folder / "other", "Someone else's CA"),
    )
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_postgres(pki):
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
    data, pwfile = pki.folder / "pgdata", pki.folder / "pgpass"
    data.mkdir(mode=0o700)
    pwfile.write_text(PG_PASSWORD)
    cert, key = pki.ca.issue("postgres", ["localhost", "127.0.0.1"])
    give_to_postgres(data, pwfile, key)
    subprocess.run(
        as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--no-sync",
                     "--auth=scram-sha-256", f"--pwfile={pwfile}"]),
        check=True, capture_output=True,
    )  # fmt: skip
    shutil.copy(ROOT / "deploy" / "postgres" / "pg_hba.conf", data / "pg_hba.conf")
    port = free_port()
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on "
        f"-c ssl_cert_file={cert} -c ssl_key_file={key} -c ssl_min_protocol_version=TLSv1.2"
    )
    pg_ctl = str(bindir / "pg_ctl")
    start = [pg_ctl, "-D", str(data), "-l", str(data / "log"), "-o", options, "-w", "start"]
    subprocess.run(as_postgres(start), check=True, capture_output=True)
    yield port
    subprocess.run(as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), check=False)


def compose_redis_acl() -> list[str]:
    """The ``--user …`` arguments of the Redis service in docker-compose.yml."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"][
        "command"
    ]
    acl = command[command.index("--user") :]
    return [f">{REDIS_PASSWORD}" if arg.startswith(">") else arg for arg in acl]


@pytest.fixture(scope="module")
def tls_redis(pki):
    cert, key = pki.ca.issue("redis", ["localhost", "127.0.0.1"])
    port = free_port()
    command = [
        "redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(pki.ca.ca_file), "--tls-auth-clients", "no",
        "--tls-protocols", "TLSv1.2 TLSv1.3", "--save", "", "--appendonly", "no",
        *compose_redis_acl(),
    ]  # fmt: skip
    with running(command, env=dict(os.environ), log_name="redis-tls") as process:
        wait_for_port(port, process, "redis-tls")
        yield port


def database_url(port: int, ca: Path) -> str:
    return (
        f"postgres://postgres:{PG_PASSWORD}@localhost:{port}/postgres"
        f"?sslmode=verify-full&sslrootcert={ca}"
    )


def redis_url(port: int, ca: Path, password: str = REDIS_PASSWORD) -> str:
    return (
        f"rediss://ebok:{quote(password)}@localhost:{port}/0"
        f"?ssl_cert_reqs=required&ssl_ca_certs={ca}"
    )


def probe(*backends: str, database: str, redis_location: str) -> subprocess.CompletedProcess:
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY=SECRET_KEY,
        BASE_DOMAIN="ebok.example.pl",
        DATABASE_URL=database,
        REDIS_URL=redis_location,
        CELERY_BROKER_URL=redis_location,
        DB_CONN_MAX_AGE="0",
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE, *backends],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_production_app_uses_database_cache_and_broker_over_verified_tls(
    pki, tls_postgres, tls_redis
):
    result = probe(
        "db", "cache", "broker",
        database=database_url(tls_postgres, pki.ca.ca_file),
        redis_location=redis_url(tls_redis, pki.ca.ca_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] in {"db True TLSv1.3", "db True TLSv1.2"}
    assert lines[1:] == ["cache ok", "broker {'probe': 1}"]


@pytest.mark.parametrize(
    ("backend", "error"),
    [
        ("db", "certificate verify failed"),
        ("cache", "certificate verify failed"),
        ("broker", "certificate verify failed"),
    ],
)
def test_a_server_certificate_from_another_ca_is_refused(
    pki, tls_postgres, tls_redis, backend, error
):
    # The servers are the same; only the CA the app trusts is another one.
    result = probe(
        backend,
        database=database_url(tls_postgres, pki.other.ca_file),
        redis_location=redis_url(tls_redis, pki.other.ca_file),
    )
    assert result.returncode != 0
    assert error in result.stderr
    assert backend not in result.stdout


def test_postgres_of_the_deployment_refuses_plain_text_connections(tls_postgres):
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(
            host="127.0.0.1", port=tls_postgres, user="postgres", password=PG_PASSWORD,
            dbname="postgres", sslmode="disable", connect_timeout=5,
        )  # fmt: skip


def test_redis_of_the_deployment_admits_only_the_apps_user_without_admin_commands(pki, tls_redis):
    app_user = redis.Redis.from_url(redis_url(tls_redis, pki.ca.ca_file))
    assert app_user.ping()
    with pytest.raises(redis.exceptions.NoPermissionError):
        app_user.config_get("requirepass")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis.from_url(redis_url(tls_redis, pki.ca.ca_file, password="wrong")).ping()
    default_user = redis.Redis(
        host="localhost", port=tls_redis, ssl=True, ssl_ca_certs=str(pki.ca.ca_file)
    )
    with pytest.raises(redis.exceptions.AuthenticationError):
        default_user.ping()
