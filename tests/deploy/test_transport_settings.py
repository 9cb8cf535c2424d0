"""Production refuses to start when a backend on another machine is not verified TLS."""

import subprocess
import sys

import dj_database_url
import pytest

from ebok_platform.transport import plaintext_backends
from tests.support.processes import ROOT, process_env

CA = "/certs/ca.pem"
REMOTE_TLS_DB = f"postgres://ebok:pw@db.internal:5432/ebok?sslmode=verify-full&sslrootcert={CA}"
REMOTE_TLS_REDIS = (
    f"rediss://ebok:pw@redis.internal:6379/0?ssl_cert_reqs=required&ssl_ca_certs={CA}"
)


def problems(database_url: str, redis_url: str) -> list[str]:
    return plaintext_backends(dj_database_url.parse(database_url), {"REDIS_URL": redis_url})


@pytest.mark.parametrize(
    "database_url",
    [
        REMOTE_TLS_DB,
        "postgres://postgres@127.0.0.1:5432/ebok",
        "postgres://postgres@localhost/ebok",
        "postgres://postgres@[::1]:5432/ebok",
        "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/ebok",
    ],
)
def test_verified_tls_or_a_local_database_is_accepted(database_url):
    assert problems(database_url, REMOTE_TLS_REDIS) == []


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://ebok:pw@db.internal:5432/ebok",
        "postgres://ebok:pw@db.internal:5432/ebok?sslmode=require",
        "postgres://ebok:pw@10.0.0.5:5432/ebok?sslmode=verify-ca&sslrootcert=/ca.pem",
    ],
)
def test_a_remote_database_without_verified_tls_is_a_problem(database_url):
    [problem] = problems(database_url, REMOTE_TLS_REDIS)
    assert problem.startswith("DATABASE_URL reaches ")
    assert "sslmode=verify-full" in problem


@pytest.mark.parametrize(
    "redis_url",
    [REMOTE_TLS_REDIS, "redis://127.0.0.1:6379/0", "unix:///run/redis.sock?db=0"],
)
def test_verified_tls_or_a_local_redis_is_accepted(redis_url):
    assert problems(REMOTE_TLS_DB, redis_url) == []


@pytest.mark.parametrize(
    "redis_url",
    [
        "redis://:pw@redis.internal:6379/0",
        # kombu treats rediss:// without ssl_cert_reqs as "do not verify".
        "rediss://:pw@redis.internal:6379/0",
        "rediss://:pw@redis.internal:6379/0?ssl_cert_reqs=none",
    ],
)
def test_a_remote_redis_without_verified_tls_is_a_problem(redis_url):
    [problem] = problems(REMOTE_TLS_DB, redis_url)
    assert problem.startswith("REDIS_URL reaches redis.internal without verified TLS")


def start_production(**env) -> subprocess.CompletedProcess:
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY="x7#Lq9!vR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sY" * 2,
        BASE_DOMAIN="ebok.example.pl",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_production_refuses_to_start_with_a_plain_text_broker_on_another_machine():
    result = start_production(
        DATABASE_URL=REMOTE_TLS_DB,
        REDIS_URL=REMOTE_TLS_REDIS,
        CELERY_BROKER_URL="redis://:pw@broker.internal:6379/0",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: CELERY_BROKER_URL reaches broker.internal" in result.stderr
    assert "started" not in result.stdout


def test_production_starts_with_plain_text_backends_only_when_told_to():
    plain = {
        "DATABASE_URL": "postgres://ebok:pw@db.internal:5432/ebok",
        "REDIS_URL": "redis://:pw@redis.internal:6379/0",
        "CELERY_BROKER_URL": "redis://:pw@redis.internal:6379/0",
    }
    refused = start_production(**plain)
    assert "ImproperlyConfigured: DATABASE_URL reaches db.internal" in refused.stderr
    allowed = start_production(ALLOW_PLAINTEXT_BACKENDS="true", **plain)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "started"
