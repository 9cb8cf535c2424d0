"""Real server, worker and beat processes for tests, against the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(**extra) -> dict:
    """The environment of a child process: same settings, the test database."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        BASE_DOMAIN=settings.BASE_DOMAIN,
        PRIVATE_STORAGE_ROOT=str(settings.PRIVATE_STORAGE_ROOT),
        CONNECTOR_ROOT=str(settings.CONNECTOR_ROOT),
        DJANGO_SETTINGS_MODULE="ebok_platform.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def wait_for_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def running(args: list[str], *, env: dict, log_name: str):
    log_path = ROOT / "var" / "test-logs" / f"{log_name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


@contextmanager
def web_server(**extra_env):
    """gunicorn serving the project; yields the port."""
    port = free_port()
    args = [
        str(VENV_BIN / "gunicorn"),
        "ebok_platform.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
    ]
    with running(args, env=process_env(PORTAL_PORT=port, **extra_env), log_name=f"web-{port}"):
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        yield port


def celery_args(*command: str) -> list[str]:
    return [str(VENV_BIN / "celery"), "-A", "ebok_platform", *command]


@contextmanager
def celery_worker(name: str = "worker", **extra_env):
    args = celery_args(
        "worker",
        "-Q",
        f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.CELERY_SYNC_QUEUE}",
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "-n",
        f"{name}@%h",
        "--loglevel",
        "INFO",
    )
    with running(args, env=process_env(**extra_env), log_name=name) as proc:
        yield proc


@contextmanager
def celery_beat(**extra_env):
    schedule = ROOT / "var" / "test-logs" / f"beat-{os.getpid()}.db"
    args = celery_args("beat", "--loglevel", "INFO", "-s", str(schedule))
    with running(args, env=process_env(**extra_env), log_name="beat") as proc:
        yield proc
