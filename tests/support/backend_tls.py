"""PostgreSQL and Redis of the deployment, run here TLS only with certificates made by
the test: PostgreSQL with deploy/postgres/pg_hba.conf, Redis with the ACL of
docker-compose.yml. The fixtures are in tests/deploy/conftest.py."""

import glob
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import yaml

from tests.support.processes import ROOT, free_port, running
from tests.support.tls import Authority, wait_for_port

PG_PASSWORD = "pg-Secret-for-the-test-1"
REDIS_PASSWORD = "redis-Secret-for-the-test-1"


def as_postgres(args: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def give_to_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


@contextmanager
def tls_postgres_server(folder: Path, ca: Authority):
    """A PostgreSQL cluster in ``folder`` accepting only TLS; yields its port."""
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
    data, pwfile = folder / "pgdata", folder / "pgpass"
    data.mkdir(mode=0o700)
    pwfile.write_text(PG_PASSWORD)
    cert, key = ca.issue("postgres", ["localhost", "127.0.0.1"])
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
    try:
        yield port
    finally:
        stop = [pg_ctl, "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(as_postgres(stop), check=False)


def compose_redis_acl() -> list[str]:
    """The ``--user …`` arguments of the Redis service in docker-compose.yml."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"][
        "command"
    ]
    acl = command[command.index("--user") :]
    return [f">{REDIS_PASSWORD}" if arg.startswith(">") else arg for arg in acl]


@contextmanager
def tls_redis_server(ca: Authority):
    """redis-server TLS only, with the deployment's users; yields its port."""
    cert, key = ca.issue("redis", ["localhost", "127.0.0.1"])
    port = free_port()
    command = [
        "redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca.ca_file), "--tls-auth-clients", "no",
        "--tls-protocols", "TLSv1.2 TLSv1.3", "--save", "", "--appendonly", "no",
        *compose_redis_acl(),
    ]  # fmt: skip
    with running(command, env=dict(os.environ), log_name="redis-tls") as process:
        wait_for_port(port, process, "redis-tls")
        yield port


def database_url(port: int, ca: Path, database: str = "postgres") -> str:
    return (
        f"postgres://postgres:{PG_PASSWORD}@localhost:{port}/{database}"
        f"?sslmode=verify-full&sslrootcert={ca}"
    )


def redis_url(port: int, ca: Path, password: str = REDIS_PASSWORD) -> str:
    return (
        f"rediss://ebok:{quote(password)}@localhost:{port}/0"
        f"?ssl_cert_reqs=required&ssl_ca_certs={ca}"
    )
