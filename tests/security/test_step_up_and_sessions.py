"""Step-up (ASVS 3.7.1, 4.3.3) and the list of active sessions (ASVS 3.3.4).

Sensitive actions need an authentication of the last few minutes: without one
they send the session to its area's re-authentication page and change nothing;
after the password (and code) again they work. Residents and staff see their
active sessions and API tokens and end them after re-entering the password.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone
from django_tenants.utils import schema_context

from ebok.accounts import services, step_up
from ebok.accounts.models import User
from ebok.models import ApiToken, AuditEvent, LoginRecord
from tenants.models import Cooperative, OperatorAuditEvent
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, household, make_resident, make_staff

ODRA = "odra.localhost"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)
AN_HOUR = 3600

SENSITIVE = [
    "panel:grant",
    "panel:regenerate",
    "panel:block",
    "panel:unblock",
    "panel:erase",
    "panel:staff",
    "panel:staff_member",
    "panel:connector",
    "panel:settings",
    "panel:end_session",
    "panel:end_other_sessions",
    "panel:revoke_token",
    "portal:otp_disable",
    "portal:logout_everywhere",
    "portal:end_session",
    "portal:revoke_token",
]
CONSOLE_SENSITIVE = ["operator:onboard", "operator:suspend", "operator:resume"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    rates = {"ip": "100000/min", "token": "100000/min", "login": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def world(odra):
    with schema_context(odra.schema_name):
        people = household()
        admin = make_staff("admin.step", role="admin")
        device = otp.enrol(admin)
        resident = make_resident(people["kowalska"])
        other = make_resident(people["nowak"])
    return {"admin": admin, "device": device, "resident": resident, "other": other}


def password_login(username, *, path="/login/", host=ODRA, agent=FIREFOX, address="10.0.0.1"):
    """A real login through the form, from a given browser and address."""
    client = Client(HTTP_HOST=host, HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": RESIDENT_PASSWORD})
    assert response.status_code == 302, response
    return client


def staff_login(world, odra, **kwargs):
    client = password_login("admin.step", path="/panel/login/", **kwargs)
    with schema_context(odra.schema_name):
        code = otp.code_for(world["device"])
    otp.pass_second_factor(client, code)
    return client


def age_authentication(client, schema: str, seconds: int = AN_HOUR) -> None:
    """Move the session's last authentication into the past (as the clock would)."""
    with schema_context(schema):
        session = client.session
        session[step_up.AUTHENTICATED_AT] -= seconds
        session.save()


def reauth_location(response, prefix="/panel/reauth/"):
    assert response.status_code == 302, response
    assert response["Location"].startswith(prefix), response["Location"]
    return response["Location"]


def _view(urlconf: str, name: str):
    namespace, view_name = name.split(":")
    _prefix, patterns = get_resolver(urlconf).namespace_dict[namespace]
    for pattern in patterns.url_patterns:
        if getattr(pattern, "name", None) == view_name:
            return pattern.callback
    raise AssertionError(f"no view {name}")


def test_every_sensitive_view_requires_a_recent_authentication():
    for name in SENSITIVE:
        assert getattr(_view("ebok_platform.urls_tenant", name), "step_up", False), name
    for name in CONSOLE_SENSITIVE:
        assert getattr(_view("ebok_platform.urls_public", name), "step_up", False), name
    # Reading pages carry no step-up: the marker is not on everything.
    assert not getattr(_view("ebok_platform.urls_tenant", "panel:people"), "step_up", False)


def test_staff_actions_without_a_recent_login_go_to_reauthentication_and_do_nothing(odra, world):
    client = staff_login(world, odra)
    age_authentication(client, odra.schema_name)
    resident, admin = world["resident"], world["admin"]
    with schema_context(odra.schema_name):
        viewer = make_staff("viewer.step", role="viewer")
        events_before = AuditEvent.objects.count()
    rules_before = Cooperative.objects.get(pk=odra.pk).rules_text
    attempts = [
        ("/panel/people/O2/grant/", {}),
        (f"/panel/accounts/{resident.pk}/regenerate/", {}),
        (f"/panel/accounts/{resident.pk}/block/", {"reason": "misuse"}),
        (f"/panel/accounts/{resident.pk}/unblock/", {}),
        (
            f"/panel/accounts/{resident.pk}/erase/",
            {"request_reference": "W/1", "request_date": "2026-01-02"},
        ),
        ("/panel/staff/", {"login": "nowy.step", "role": "admin"}),
        (f"/panel/staff/{viewer.pk}/", {"role": "admin"}),
        ("/panel/settings/", {"rules_text": "Zmienione", "accent_color": "#123456"}),
        ("/panel/connector/", {"schedule": "every 1h", "enabled": "on"}),
    ]
    for path, data in attempts:
        reauth_location(client.post(path, data))
    # Pages that are only about a sensitive form ask before it is filled in.
    reauth_location(client.get(f"/panel/accounts/{resident.pk}/erase/"))
    reauth_location(client.get("/panel/settings/"))
    # Pages that list things stay readable.
    assert client.get("/panel/staff/").status_code == 200
    with schema_context(odra.schema_name):
        resident.refresh_from_db()
        viewer.refresh_from_db()
        assert resident.blocked_at is None and resident.password == world["resident"].password
        assert not User.objects.filter(login="nowy.step").exists()
        assert not User.objects.filter(person_source_id="O2").exists()
        assert viewer.role == "viewer"
        assert AuditEvent.objects.count() == events_before
    assert Cooperative.objects.get(pk=odra.pk).rules_text == rules_before
    assert admin.is_authenticated  # the session itself is kept: it only has to prove itself


def test_after_reauthentication_the_action_works_and_the_post_is_not_replayed(odra, world):
    client = staff_login(world, odra)
    age_authentication(client, odra.schema_name)
    resident = world["resident"]
    person_page = "/panel/people/O1/"
    sent = client.post(
        f"/panel/accounts/{resident.pk}/block/",
        {"reason": "misuse"},
        HTTP_REFERER=f"http://{ODRA}{person_page}",
    )
    location = reauth_location(sent)
    assert location == f"/panel/reauth/?next={person_page.replace('/', '%2F')}"
    page = client.get(location)
    assert page.status_code == 200 and set(page.context["form"].fields) == {"password", "code"}
    with schema_context(odra.schema_name):
        code = otp.code_for(world["device"])
    back = client.post(location, {"password": RESIDENT_PASSWORD, "code": code, "next": person_page})
    assert back.status_code == 302 and back["Location"] == person_page
    with schema_context(odra.schema_name):
        resident.refresh_from_db()
        assert resident.blocked_at is None  # coming back did not send the form again
        assert AuditEvent.objects.filter(action="reauth.succeeded", actor_login="admin.step")
    done = client.post(f"/panel/accounts/{resident.pk}/block/", {"reason": "misuse"})
    assert done.status_code == 302 and not done["Location"].startswith("/panel/reauth/")
    with schema_context(odra.schema_name):
        resident.refresh_from_db()
        assert resident.blocked_at is not None


def test_reauthentication_without_the_code_is_refused_and_audited(odra, world):
    client = staff_login(world, odra)
    age_authentication(client, odra.schema_name)
    refused = client.post("/panel/reauth/", {"password": RESIDENT_PASSWORD, "code": "000000"})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert not step_up.authenticated_recently(refused.wsgi_request)
    with schema_context(odra.schema_name):
        failed = AuditEvent.objects.get(action="reauth.failed", actor_login="admin.step")
        assert failed.details == {"factor": "code"}
    reauth_location(client.post("/panel/settings/", {"rules_text": "x"}))


def test_a_wrong_password_at_reauthentication_is_audited_and_locks_out(odra, world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = password_login(world["resident"].login)
    age_authentication(client, odra.schema_name)
    for _attempt in range(2):
        wrong = client.post("/konto/potwierdz/", {"password": "nie-to-haslo"})
        assert wrong.status_code == 200 and wrong.context["form"].non_field_errors()
    with schema_context(odra.schema_name):
        login = world["resident"].login
        assert AuditEvent.objects.filter(action="reauth.failed", target_login=login).count() == 2
        assert AccessAttempt.objects.get(username=login).failures_since_start == 2
    locked = client.post("/konto/potwierdz/", {"password": "nie-to-haslo"})
    assert locked.status_code == 429
    # Locked out: not even the right password re-authenticates until the cool-off.
    still = client.post("/konto/potwierdz/", {"password": RESIDENT_PASSWORD})
    assert still.status_code == 429
    assert not step_up.authenticated_recently(still.wsgi_request)


def test_portal_sensitive_actions_ask_for_the_password_again(odra, world):
    resident = world["resident"]
    with schema_context(odra.schema_name):
        device = otp.enrol(resident)
    client = password_login(resident.login)
    with schema_context(odra.schema_name):
        code = otp.code_for(device)
    otp.pass_second_factor(client, code, "/login/kod/")
    age_authentication(client, odra.schema_name)
    with schema_context(odra.schema_name):
        code = otp.code_for(device)
    reauth_location(client.post("/konto/dwuetapowa/wylacz/", {"code": code}), "/konto/potwierdz/")
    reauth_location(client.post("/konto/wyloguj-wszedzie/"), "/konto/potwierdz/")
    with schema_context(odra.schema_name):
        assert otp.enrol(resident).pk == device.pk  # two-factor is still on
        code = otp.code_for(device)
    back = client.post("/konto/potwierdz/", {"password": RESIDENT_PASSWORD, "code": code})
    assert back.status_code == 302 and back["Location"] == "/"
    with schema_context(odra.schema_name):
        code = otp.code_for(device)
    assert client.post("/konto/dwuetapowa/wylacz/", {"code": code})["Location"] == "/konto/"
    with schema_context(odra.schema_name):
        assert not User.objects.get(pk=resident.pk).totpdevice_set.exists()


def test_operator_console_actions_ask_for_the_password_and_code_again(apex_client, odra):
    operator = User.objects.create_superuser("operator.step", RESIDENT_PASSWORD)
    device = otp.enrol(operator)
    client = password_login("operator.step", host="localhost")
    otp.pass_second_factor(client, otp.code_for(device), "/otp/")
    age_authentication(client, "public")
    reauth_location(client.post("/cooperatives/ODRA/suspend/", {"reason": "test"}), "/reauth/")
    reauth_location(client.get("/cooperatives/new/"), "/reauth/")
    assert Cooperative.objects.get(pk=odra.pk).is_active
    wrong = client.post("/reauth/", {"password": "zle-haslo", "code": otp.code_for(device)})
    assert wrong.status_code == 200
    assert OperatorAuditEvent.objects.filter(action="reauth.failed", actor_login="operator.step")
    client.post("/reauth/", {"password": RESIDENT_PASSWORD, "code": otp.code_for(device)})
    assert client.get("/cooperatives/new/").status_code == 200


def test_staff_api_writes_need_a_recently_issued_token(odra, world):
    api = Client(HTTP_HOST=ODRA)
    with schema_context(odra.schema_name):
        raw, token = services.issue_api_token(world["admin"])
        ApiToken.objects.filter(pk=token.pk).update(
            created_at=timezone.now()
            - timedelta(seconds=settings.RECENT_AUTHENTICATION_SECONDS + 5)
        )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    block = "/api/v1/staff/persons/O1/block/"
    refused = api.post(block, {"reason": "misuse"}, content_type="application/json", **headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"
    assert api.get("/api/v1/staff/persons/O1/", **headers).status_code == 200  # reads still work
    with schema_context(odra.schema_name):
        assert User.objects.get(pk=world["resident"].pk).blocked_at is None
        fresh, _token = services.issue_api_token(world["admin"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {fresh}"}
    done = api.post(block, {"reason": "misuse"}, content_type="application/json", **headers)
    assert done.status_code == 200, done.content


def test_residents_see_their_sessions_and_end_one_of_them(odra, world):
    login = world["resident"].login
    laptop = password_login(login, agent=FIREFOX, address="10.0.0.1")
    phone = password_login(login, agent=PHONE, address="10.0.0.2")
    page = laptop.get("/konto/", HTTP_ACCEPT_LANGUAGE="en")
    sessions = page.context["active_sessions"]
    assert [(s.device, s.ip_address, s.current) for s in sessions] == [
        ("Chrome Mobile on Android (Pixel 8)", "10.0.0.2", False),
        ("Firefox on Windows", "10.0.0.1", True),
    ]
    assert "Firefox on Windows" in page.content.decode()
    assert phone.get("/konto/").status_code == 200
    ended = laptop.post(f"/konto/sesje/{sessions[0].id}/zakoncz/")
    assert ended.status_code == 302 and ended["Location"] == "/konto/"
    assert phone.get("/konto/")["Location"].startswith("/login/")  # anonymous now
    assert laptop.get("/konto/").status_code == 200  # this session stays
    left = laptop.get("/konto/").context["active_sessions"]
    assert [s.current for s in left] == [True]
    with schema_context(odra.schema_name):
        assert AuditEvent.objects.filter(action="session.ended", actor_login=login).count() == 1


def test_ending_a_session_needs_a_recent_login_and_only_ends_ones_own(odra, world):
    laptop = password_login(world["resident"].login)
    phone = password_login(world["resident"].login, agent=PHONE)
    neighbour = password_login(world["other"].login)
    with schema_context(odra.schema_name):
        neighbours = LoginRecord.objects.get(user=world["other"]).pk
        phones = LoginRecord.objects.filter(user=world["resident"]).order_by("-at").first().pk
    missing = laptop.post(f"/konto/sesje/{neighbours}/zakoncz/")
    assert missing.status_code == 302
    assert neighbour.get("/konto/").status_code == 200  # someone else's session: untouched
    age_authentication(laptop, odra.schema_name)
    reauth_location(laptop.post(f"/konto/sesje/{phones}/zakoncz/"), "/konto/potwierdz/")
    assert phone.get("/konto/").status_code == 200


def test_tokens_are_listed_and_revoked_from_the_account_page(odra, world):
    client = password_login(world["resident"].login)
    with schema_context(odra.schema_name):
        raw, token = services.issue_api_token(world["resident"])
    listed = client.get("/konto/").context["active_tokens"]
    assert [t.pk for t in listed] == [token.pk]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client(HTTP_HOST=ODRA).get("/api/v1/me/", **headers).status_code == 200
    revoked = client.post(f"/konto/tokeny/{token.pk}/uniewaznij/")
    assert revoked.status_code == 302
    assert Client(HTTP_HOST=ODRA).get("/api/v1/me/", **headers).status_code == 401
    assert client.get("/konto/").context["active_tokens"] == []


def test_staff_see_their_sessions_and_log_out_the_others(odra, world):
    desk = staff_login(world, odra, agent=FIREFOX, address="10.0.0.5")
    other_desk = staff_login(world, odra, agent=PHONE, address="10.0.0.6")
    with schema_context(odra.schema_name):
        raw, _token = services.issue_api_token(world["admin"])
    page = desk.get("/panel/account/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert [s.ip_address for s in page.context["active_sessions"]] == ["10.0.0.6", "10.0.0.5"]
    assert len(page.context["active_tokens"]) == 1
    age_authentication(desk, odra.schema_name)
    reauth_location(desk.post("/panel/account/sessions/end-others/"))
    assert other_desk.get("/panel/account/").status_code == 200
    with schema_context(odra.schema_name):
        code = otp.code_for(world["device"])
    desk.post("/panel/reauth/", {"password": RESIDENT_PASSWORD, "code": code})
    assert desk.post("/panel/account/sessions/end-others/")["Location"] == "/panel/account/"
    assert other_desk.get("/panel/account/")["Location"].startswith("/panel/login/")
    assert desk.get("/panel/account/").status_code == 200
    api = Client(HTTP_HOST=ODRA, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/me/").status_code == 401
