"""Issue: platform foundation — routing, isolation, onboarding, health."""

import os
import shutil
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from ebok.accounts.models import User
from tenants.models import Cooperative, Domain
from tenants.services import resume_cooperative, suspend_cooperative
from tests.support.processes import ROOT, free_port, process_env

PASSWORD = "wspólne-hasło-2026"


def test_stdlib_platform_is_not_shadowed_from_repo_root():
    code = "import uuid, platform; print(platform.system()); import ebok_platform.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == os.uname().sysname


def _same_user_in(cooperative, in_schema, login="jan.kowalski"):
    with in_schema(cooperative):
        return User.objects.create_user(
            login,
            PASSWORD,
            display_name=cooperative.code,
            rules_accepted_version=cooperative.rules_version,
        )


def _log_in(client, login="jan.kowalski", password=PASSWORD):
    return client.post("/login/", {"username": login, "password": password})


def test_same_login_in_two_cooperatives_logs_in_only_on_its_own_host(
    odra, warta, odra_client, warta_client, in_schema
):
    _same_user_in(odra, in_schema)
    with in_schema(odra):
        # The WARTA account does not exist in ODRA: a different password is refused there.
        assert User.objects.filter(login="jan.kowalski").count() == 1
    response = _log_in(odra_client)
    assert response.status_code == 302
    assert _log_in(warta_client).status_code == 200  # form redisplayed: no such user in WARTA

    _same_user_in(warta, in_schema)
    with in_schema(warta):
        User.objects.filter(login="jan.kowalski").update(display_name="Warta copy")
    assert _log_in(warta_client).status_code == 302
    with in_schema(odra):
        assert User.objects.get(login="jan.kowalski").display_name == "ODRA"


def test_session_cookie_of_one_host_is_refused_on_the_other(odra, warta, odra_client, in_schema):
    _same_user_in(odra, in_schema)
    _same_user_in(warta, in_schema)
    assert _log_in(odra_client).status_code == 302
    assert odra_client.get("/").status_code == 200
    session_id = odra_client.cookies["sessionid"].value
    assert odra_client.cookies["sessionid"]["domain"] == ""  # host-only cookie

    from django.test import Client

    intruder = Client(HTTP_HOST="warta.localhost")
    intruder.cookies["sessionid"] = session_id
    response = intruder.get("/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_data_created_in_one_schema_is_invisible_from_the_other(odra, warta, in_schema):
    from ebok.models import Person

    with in_schema(odra):
        Person.objects.create(source_id="O1", last_name="Nowak")
    with in_schema(warta):
        assert not Person.objects.filter(source_id="O1").exists()
    with in_schema(odra):
        assert Person.objects.filter(source_id="O1").exists()


def test_unknown_host_is_404(db):
    from django.test import Client

    assert Client(HTTP_HOST="nieznana.localhost").get("/").status_code == 404


def test_apex_host_serves_the_operator_console(apex_client):
    response = apex_client.get("/admin/login/")
    assert response.status_code == 200
    assert connection.schema_name == "public"


def test_suspended_cooperative_answers_503_and_resumes(odra, odra_client):
    suspend_cooperative(odra, reason="unpaid")
    response = odra_client.get("/login/")
    assert response.status_code == 503
    assert "niedostępny" in response.content.decode()
    resume_cooperative(odra)
    assert odra_client.get("/login/").status_code == 200


def test_onboarding_creates_schema_and_domain(db):
    call_command(
        "onboard_cooperative", code="LAZUR", name="SM Lazur", domain="ebok.lazur.localhost"
    )
    cooperative = Cooperative.objects.get(code="LAZUR")
    assert schema_exists("lazur")
    assert cooperative.domains.get().domain == "ebok.lazur.localhost"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"code": "odra", "name": "Again"}, "już istnieje"),
        ({"code": "NOWA", "name": "New", "domain": "warta.localhost"}, "jest już używana"),
        ({"code": "x-1", "name": "Bad"}, "Nieprawidłowy kod"),
    ],
)
def test_onboarding_twice_is_a_clean_error_leaving_nothing(db, arguments, message):
    cooperatives, domains = Cooperative.objects.count(), Domain.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("onboard_cooperative", **arguments)
    assert (Cooperative.objects.count(), Domain.objects.count()) == (cooperatives, domains)
    assert not schema_exists("nowa")


def test_onboarding_command_exits_non_zero_on_duplicate(db):
    env = process_env()
    result = subprocess.run(
        [sys.executable, "manage.py", "onboard_cooperative", "--code", "ODRA", "--name", "x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Spółdzielnia o kodzie ODRA już istnieje." in result.stderr


def test_healthz_reports_database_and_broker(odra_client):
    response = odra_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs a redis-server binary")
def test_healthz_reports_a_stopped_redis_as_down(apex_client, settings):
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
        for _ in range(50):
            if apex_client.get("/healthz").status_code == 200:
                break
            time.sleep(0.1)
        assert apex_client.get("/healthz").json()["broker"] == "ok"
    finally:
        redis.terminate()
        redis.wait()
    response = apex_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


def test_production_settings_pass_check_deploy():
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY="x7#Lq9!vR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sY" * 2,
        BASE_DOMAIN="ebok.example.pl",
        DEBUG="0",
        CONNECTOR_SECRET_KEYS="kU5Yq1b2bWxqv7cmQeL1d7Qj2m0qGJv3yXw0N1oQb9E=",
        OTP_KEY_ENCRYPTION_KEYS="3m7oQm0P8x2mJkq1dXyQ9l2r7hZqk1nB0c4vF6tW8sE=",
        PASSWORD_PEPPERS="Jt2bH0qY7cVwR4mK9xN1pL6sD3fG8aZ5eU0iO2yT7wQ",
        DOCUMENT_KEYS="iPBe5Cp4Lp-zGNoYGHfm0YewO5ADsKeLtRvUDmvEU0o=",
        ANTIVIRUS_URL="tcp://clamd:3310",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
