"""Where the test command and the demo get PostgreSQL and Redis from."""

import socket
import subprocess
import sys

import psycopg
import pytest
import redis

from ebok_platform import services
from tests.support.processes import ROOT


def answers(value):
    return lambda host, port: value


def plan(environ, *, postgres=False, redis_=False, **options):
    return services.plan_services(
        environ, postgres_answers=answers(postgres), redis_answers=answers(redis_), **options
    )


def test_urls_from_the_environment_win_over_local_servers():
    environ = {"DATABASE_URL": "postgres://u@db.internal:6543/x", "REDIS_URL": "redis://r:1/2"}
    chosen = plan(environ, postgres=True, redis_=True)
    assert chosen.database == services.Choice("environment", "postgres://u@db.internal:6543/x")
    assert chosen.redis == services.Choice("environment", "redis://r:1/2")


def test_local_servers_when_no_urls_are_set():
    chosen = plan({}, postgres=True, redis_=True)
    assert chosen.database == services.Choice("local", "postgres://postgres@127.0.0.1:5432/ebok")
    assert chosen.redis == services.Choice("local", "redis://127.0.0.1:6379/0")


def test_each_service_is_chosen_on_its_own():
    chosen = plan({"REDIS_URL": "redis://r:1/0", "DATABASE_URL": ""}, postgres=False)
    assert chosen.database.source == "embedded"
    assert chosen.redis == services.Choice("environment", "redis://r:1/0")


def test_embedded_when_nothing_answers():
    chosen = plan({"DATABASE_URL": "", "REDIS_URL": " "})
    assert chosen.database.source == "embedded"
    assert chosen.redis.source == "embedded"


@pytest.mark.parametrize(
    "environ, options",
    [({}, {"force_embedded": True}), ({"EBOK_FORCE_EMBEDDED": "1"}, {})],
)
def test_forcing_embedded_ignores_urls_and_local_servers(environ, options):
    environ = {**environ, "DATABASE_URL": "postgres://x@y/z", "REDIS_URL": "redis://y/0"}
    chosen = plan(environ, postgres=True, redis_=True, **options)
    assert chosen.database.source == "embedded"
    assert chosen.redis.source == "embedded"


def test_env_command_prints_the_urls_it_was_given(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgres://someone@db.example:5432/prod",
        "REDIS_URL": "redis://cache.example:6379/3",
    }
    result = subprocess.run(
        [sys.executable, "-m", "ebok_platform.services", "env", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "export DATABASE_URL=postgres://someone@db.example:5432/prod",
        "export REDIS_URL=redis://cache.example:6379/3",
    ]
    assert not any(tmp_path.iterdir()), "nothing embedded was started"


def port_closed(url):
    host, port = url.split("//")[1].split("/")[0].split("@")[-1].split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_embedded_postgres_and_redis_start_reuse_and_stop(tmp_path):
    data_dir = tmp_path / "services"
    environ = {"DATABASE_URL": "", "REDIS_URL": ""}
    try:
        first = services.provide(data_dir, environ=environ, force_embedded=True, database="demo")
        assert first.plan.database.source == first.plan.redis.source == "embedded"
        assert first.database_url.startswith("postgres://postgres@127.0.0.1:")
        assert first.database_url.endswith("/demo")

        with psycopg.connect(first.database_url) as conn:
            conn.execute("CREATE TABLE kept (value text)")
            conn.execute("INSERT INTO kept VALUES ('ą ł ż')")
        client = redis.Redis.from_url(first.redis_url)
        client.set("key", "value")

        again = services.provide(data_dir, environ=environ, force_embedded=True, database="demo")
        assert (again.database_url, again.redis_url) == (first.database_url, first.redis_url)
        assert client.get("key") == b"value", "the running Redis was reused"
    finally:
        stopped = services.stop(data_dir)
    assert stopped == ["Redis", "PostgreSQL"]
    assert port_closed(first.database_url)
    assert port_closed(first.redis_url)
    assert services.stop(data_dir) == []

    # Data under the folder outlives a restart.
    try:
        restarted = services.provide(
            data_dir, environ=environ, force_embedded=True, database="demo"
        )
        with psycopg.connect(restarted.database_url) as conn:
            assert conn.execute("SELECT value FROM kept").fetchone() == ("ą ł ż",)
    finally:
        services.stop(data_dir)
