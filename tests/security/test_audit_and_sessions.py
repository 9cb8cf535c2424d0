"""The audit log records every authentication decision and account change, never a
secret; sessions are renewed at login, end on the server, and end everywhere
(sessions and API tokens) with the account's lifecycle."""

import logging
import subprocess
import sys
from datetime import date

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test import Client

from ebok.accounts import services
from ebok.accounts.models import User
from tenants.models import OperatorAuditEvent
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident, make_staff
from tests.support.processes import ROOT, process_env

COOKIE = settings.SESSION_COOKIE_NAME


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The API's login throttle has its own tests; other tests' logins must not count here.
    rates = {"ip": "100000/min", "token": "100000/min", "login": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def client():
    return Client(HTTP_HOST="odra.localhost")


def login(c, username, password, path="/login/"):
    return c.post(path, {"username": username, "password": password})


def token(c, username, password, **extra):
    return c.post(
        "/api/v1/auth/token/",
        {"login": username, "password": password, **extra},
        content_type="application/json",
    )


def _everything_written(schema: str) -> str:
    """Every row of the audit logs and the login history, as text."""
    tables = [
        f'"{schema}".ebok_audit_event',
        f'"{schema}".ebok_login_record',
        f"public.{OperatorAuditEvent._meta.db_table}",
    ]
    text = ""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT coalesce(string_agg(t::text, chr(10)), '') FROM {table} t")  # noqa: S608
            text += cursor.fetchone()[0]
    return text


def test_audit_records_every_decision_and_change_without_a_secret(odra, in_schema, caplog):
    caplog.set_level(logging.DEBUG)
    secrets_used = []
    with in_schema(odra):
        person = make_person("AU1", "Audytowa", "Ala")
        admin = make_staff("admin.audit", role="admin")
        device = otp.enrol(admin)
        code = otp.code_for(device)
    secrets_used.append(code)
    staff = client()
    assert login(staff, "admin.audit", RESIDENT_PASSWORD, "/panel/login/").status_code == 302
    otp.pass_second_factor(staff, code)
    wrong = "Zle-haslo-Audyt-77"
    secrets_used += [RESIDENT_PASSWORD, wrong]

    # Staff grant access (an issued password), regenerate it, create staff, change a role.
    granted = staff.post("/panel/people/AU1/grant/")
    issued = granted.context["password"]
    with in_schema(odra):
        account = User.objects.get(person_source_id="AU1")
    regenerated = staff.post(f"/panel/accounts/{account.pk}/regenerate/").context["password"]
    created = staff.post("/panel/staff/", {"login": "nowy.audyt", "role": "viewer"})
    staff_password = created.context["password"]
    with in_schema(odra):
        new_staff = User.objects.get(login="nowy.audyt")
    staff.post(f"/panel/staff/{new_staff.pk}/", {"role": "operator"})
    secrets_used += [issued, regenerated, staff_password]

    # The resident: a wrong password, the issued one, a new one, the rules, an API token.
    resident = client()
    assert login(resident, account.login, wrong).status_code == 200
    assert login(resident, wrong, "x").status_code == 200  # a password typed as a login
    assert login(resident, account.login, regenerated).status_code == 302
    chosen = "Moje-własne-hasło-2026!"
    resident.post("/haslo/", {"current": regenerated, "new": chosen, "confirm": chosen})
    resident.post("/regulamin/", {"version": odra.rules_version, "accept": "on"})
    api_token = token(resident, account.login, chosen).json()["token"]
    resident.post("/konto/wyloguj-wszedzie/")
    resident.post("/logout/")
    secrets_used += [chosen, api_token]

    # Block, unblock, erase.
    staff.post(f"/panel/accounts/{account.pk}/block/", {"reason": "misuse", "note": "test"})
    staff.post(f"/panel/accounts/{account.pk}/unblock/")
    staff.post(
        f"/panel/accounts/{account.pk}/erase/",
        {
            "request_date": date.today().isoformat(),
            "request_reference": "L-1/2026",
            "confirm": "on",
        },
    )

    with in_schema(odra):
        written = _everything_written(odra.schema_name)
        from ebok.models import AuditEvent

        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "login.succeeded",
        "login.failed",
        "otp.verified",
        "account.granted",
        "account.password_regenerated",
        "staff.created",
        "staff.role_changed",
        "account.password_changed",
        "account.rules_accepted",
        "api.token_issued",
        "account.sessions_ended",
        "logout",
        "account.blocked",
        "account.unblocked",
        "account.erased",
    } <= actions, actions
    logs = caplog.text
    for secret in secrets_used:
        assert secret not in written, "a secret in the audit log"
        assert secret not in logs, "a secret in the logs"
    assert person.last_name not in written  # erased: pseudonymised


def test_operator_audit_holds_logins_and_no_password(apex_client, db, caplog):
    caplog.set_level(logging.DEBUG)
    User.objects.create_superuser("op.audit", RESIDENT_PASSWORD)
    login(apex_client, "op.audit", "Zle-haslo-operatora-1")
    login(apex_client, "op.audit", RESIDENT_PASSWORD)
    codes = otp.enrol_through_the_page(apex_client, "public", "op.audit", "/otp/setup/")
    actions = list(
        OperatorAuditEvent.objects.filter(actor_login="op.audit").values_list("action", flat=True)
    )
    assert {"login.failed", "login.succeeded", "otp.enabled"} <= set(actions)
    written = str(list(OperatorAuditEvent.objects.values()))
    for secret in (RESIDENT_PASSWORD, "Zle-haslo-operatora-1", *codes):
        assert secret not in written and secret not in caplog.text


# --- Sessions ---------------------------------------------------------------------------------


@pytest.fixture
def resident(odra, in_schema):
    with in_schema(odra):
        return make_resident(make_person("SE1", "Sesyjna", "Sara"))


def _alive(cookie: str, path="/") -> bool:
    c = client()
    c.cookies[COOKIE] = cookie
    return c.get(path).status_code == 200


def test_login_issues_a_new_session_id(odra, in_schema, resident):
    c = client()
    c.get("/login/")
    session = c.session  # an anonymous session, e.g. planted by an attacker
    session["planted"] = True
    session.save()
    planted = session.session_key
    c.cookies[COOKIE] = planted
    assert login(c, resident.login, RESIDENT_PASSWORD).status_code == 302
    assert c.cookies[COOKIE].value != planted
    with in_schema(odra):
        assert not SessionStore().exists(planted)


def test_staff_session_id_changes_at_login_too(odra, in_schema):
    with in_schema(odra):
        make_staff("sesja.staff")
    c = client()
    c.get("/panel/login/")
    before = c.cookies.get(COOKIE)
    login(c, "sesja.staff", RESIDENT_PASSWORD, "/panel/login/")
    assert c.cookies[COOKIE].value and (before is None or c.cookies[COOKIE].value != before.value)


def test_logout_kills_the_session_on_the_server(resident):
    c = client()
    login(c, resident.login, RESIDENT_PASSWORD)
    cookie = c.cookies[COOKIE].value
    assert _alive(cookie)
    c.post("/logout/")
    assert not _alive(cookie)  # a copy of the old cookie is worth nothing


def test_log_out_everywhere_ends_other_sessions_and_api_tokens(resident):
    here, there = client(), client()
    login(here, resident.login, RESIDENT_PASSWORD)
    login(there, resident.login, RESIDENT_PASSWORD)
    raw = token(client(), resident.login, RESIDENT_PASSWORD).json()["token"]
    other = there.cookies[COOKIE].value
    here.post("/konto/wyloguj-wszedzie/")
    assert not _alive(other)
    assert client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert here.get("/").status_code == 200


def test_a_password_changed_over_the_api_ends_the_web_sessions(resident):
    web = client()
    login(web, resident.login, RESIDENT_PASSWORD)
    raw = token(client(), resident.login, RESIDENT_PASSWORD).json()["token"]
    new = "Inne-hasło-przez-API-2026"
    response = client().post(
        "/api/v1/me/password/",
        {"current": RESIDENT_PASSWORD, "new": new},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code in (200, 201, 204)
    assert not _alive(web.cookies[COOKIE].value)


def test_blocking_a_staff_member_ends_their_console_session_and_token(odra, in_schema):
    with in_schema(odra):
        admin = make_staff("szefowa.sesja", role="admin")
        member = make_staff("pracownik.sesja", role="viewer")
        admin_code = otp.code_for(otp.enrol(admin))
        member_code = otp.code_for(otp.enrol(member))
    boss, worker = client(), client()
    login(boss, admin.login, RESIDENT_PASSWORD, "/panel/login/")
    otp.pass_second_factor(boss, admin_code)
    login(worker, member.login, RESIDENT_PASSWORD, "/panel/login/")
    otp.pass_second_factor(worker, member_code)
    with in_schema(odra):
        raw, _token = services.issue_api_token(member)
    assert worker.get("/panel/people/").status_code == 200
    boss.post(f"/panel/accounts/{member.pk}/block/", {"reason": "other", "note": "left"})
    assert worker.get("/panel/people/")["Location"].startswith("/panel/login/")
    assert client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_production_cookies_are_secure_host_only_and_http_only():
    env = process_env(
        DJANGO_ENV="production", SECRET_KEY="k" * 60, BASE_DOMAIN="ebok.example.pl", DEBUG="0"
    )
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.SESSION_COOKIE_DOMAIN, s.SECURE_HSTS_SECONDS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "Lax",
        "None",
        "31536000",
    ], result.stderr
