"""The app reaches PostgreSQL and Redis (cache, sessions, Celery broker) over verified TLS.

Both servers run here for real, TLS only, with certificates made by the test; PostgreSQL
uses the deployment's deploy/postgres/pg_hba.conf and Redis the ACL of docker-compose.yml
(tests/support/backend_tls.py, fixtures in tests/deploy/conftest.py).
"""

import subprocess
import sys

import psycopg
import pytest
import redis

from tests.support.backend_tls import PG_PASSWORD, database_url, redis_url
from tests.support.processes import ROOT, process_env

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
