"""Device cookies: a distributed guessing attack on one account is capped, while
the account holder's own browser still gets in (ASVS 2.2.1, decision 0730)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone

from ebok.accounts.models import LoginFailure
from ebok.models import AuditEvent
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident

WRONG = "wrong-password-123"


def _address() -> str:
    # Each attempt from its own address, sent through the trusted proxy (127.0.0.1), so
    # the per login+address lockout of axes never comes into play. API throttle counters
    # live in Redis beyond a test: fresh addresses each run.
    number = uuid.uuid4().int
    return f"198.18.{number % 250}.{number // 250 % 250 + 1}"


def _login(client, login, password):
    return client.post(
        "/login/",
        {"username": login, "password": password},
        HTTP_X_FORWARDED_FOR=_address(),
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _api_token(client, login, password):
    return client.post(
        "/api/v1/auth/token/",
        json.dumps({"login": login, "password": password}),
        content_type="application/json",
        HTTP_X_FORWARDED_FOR=_address(),
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _attack(host, login):
    """Just past the limit of wrong passwords, each from its own address and a new
    client without cookies."""
    for _ in range(settings.UNTRUSTED_LOGIN_FAILURE_LIMIT + 1):
        response = _login(Client(HTTP_HOST=host), login, WRONG)
        assert response.status_code == 200  # the form again: a failure, not yet a refusal


def _logged_in(response) -> bool:
    return response.status_code == 302 and response.url == "/"


def _refused(response) -> bool:
    return response.status_code == 429 and b"unrecognised devices" in response.content


def _device_cookie(client) -> str:
    return client.cookies[settings.DEVICE_COOKIE_NAME].value


@pytest.fixture
def resident(odra, in_schema):
    with in_schema(odra):
        return make_resident(make_person("D1", "Nowak", "Anna"), login="anna.nowak")


def _trusted_browser(host, login) -> Client:
    """A browser that logged in to ``login`` before and whose session has since ended:
    all it keeps is its device cookie."""
    earlier = Client(HTTP_HOST=host)
    assert _logged_in(_login(earlier, login, RESIDENT_PASSWORD))
    browser = Client(HTTP_HOST=host)
    browser.cookies[settings.DEVICE_COOKIE_NAME] = _device_cookie(earlier)
    return browser


@pytest.fixture
def holder(resident):
    """The resident's own browser."""
    return _trusted_browser("odra.localhost", resident.login)


def test_failures_from_many_addresses_lock_the_account_for_untrusted_clients(resident):
    _attack("odra.localhost", resident.login)
    attacker = Client(HTTP_HOST="odra.localhost")
    right = _login(attacker, resident.login, RESIDENT_PASSWORD)
    wrong = _login(attacker, resident.login, WRONG)
    assert _refused(right)
    assert (right.status_code, right.content) == (wrong.status_code, wrong.content)
    assert 3500 < int(right["Retry-After"]) <= 3600
    assert "_auth_user_id" not in attacker.session


def test_the_holders_browser_with_its_device_cookie_still_logs_in(resident, holder):
    first_cookie = _device_cookie(holder)
    _attack("odra.localhost", resident.login)
    assert _refused(_login(Client(HTTP_HOST="odra.localhost"), resident.login, RESIDENT_PASSWORD))
    assert _logged_in(_login(holder, resident.login, RESIDENT_PASSWORD))
    # Every login hands the browser a fresh cookie.
    assert _device_cookie(holder) != first_cookie


def test_the_device_cookie_is_host_only_http_only_and_secure_where_required(
    resident, odra_client, settings
):
    settings.DEVICE_COOKIE_SECURE = True
    assert _logged_in(_login(odra_client, resident.login, RESIDENT_PASSWORD))
    cookie = odra_client.cookies[settings.DEVICE_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["domain"] == ""
    assert cookie["max-age"] == settings.DEVICE_COOKIE_AGE_DAYS * 86400


def test_an_api_client_gets_no_device_cookie(resident, odra_client):
    response = _api_token(odra_client, resident.login, RESIDENT_PASSWORD)
    assert response.status_code == 201
    assert settings.DEVICE_COOKIE_NAME not in response.cookies


def test_a_device_cookie_of_another_login_is_not_trusted(odra, in_schema, resident):
    with in_schema(odra):
        neighbour = make_resident(make_person("D2", "Kowal", "Jan"), login="jan.kowal")
    neighbours_browser = _trusted_browser("odra.localhost", neighbour.login)
    _attack("odra.localhost", resident.login)
    assert _refused(_login(neighbours_browser, resident.login, RESIDENT_PASSWORD))


def test_a_tampered_or_forged_device_cookie_is_not_trusted(odra, resident, holder):
    _attack("odra.localhost", resident.login)
    genuine = _device_cookie(holder)
    payload, _, signature = genuine.rpartition(":")
    tampered = f"{payload}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    forged = signing.dumps(
        {"login": resident.login, "nonce": "0" * 32},
        key="a-key-that-is-not-the-platforms-secret-key-000000",
        salt=f"ebok.accounts.device_cookie:{odra.schema_name}",
    )
    for value in (tampered, forged):
        browser = Client(HTTP_HOST="odra.localhost")
        browser.cookies[settings.DEVICE_COOKIE_NAME] = value
        assert _refused(_login(browser, resident.login, RESIDENT_PASSWORD))
    browser = Client(HTTP_HOST="odra.localhost")
    browser.cookies[settings.DEVICE_COOKIE_NAME] = genuine
    assert _logged_in(_login(browser, resident.login, RESIDENT_PASSWORD))


def test_a_device_cookie_of_one_cooperative_means_nothing_on_anothers_host(odra, warta, in_schema):
    for cooperative in (odra, warta):
        with in_schema(cooperative):
            make_resident(make_person("D3", "Wspólna"), login="wspolny.login")
    in_odra = _trusted_browser("odra.localhost", "wspolny.login")
    in_warta = _trusted_browser("warta.localhost", "wspolny.login")
    _attack("warta.localhost", "wspolny.login")
    carried = Client(HTTP_HOST="warta.localhost")
    carried.cookies[settings.DEVICE_COOKIE_NAME] = _device_cookie(in_odra)
    assert _refused(_login(carried, "wspolny.login", RESIDENT_PASSWORD))
    assert _logged_in(_login(in_warta, "wspolny.login", RESIDENT_PASSWORD))
    # The attack on WARTA's account did not touch ODRA's account of the same login.
    assert _logged_in(
        _login(Client(HTTP_HOST="odra.localhost"), "wspolny.login", RESIDENT_PASSWORD)
    )


def test_a_trusted_browser_loses_its_trust_after_its_own_failure_limit(
    odra, in_schema, resident, holder
):
    _attack("odra.localhost", resident.login)
    for _ in range(settings.DEVICE_COOKIE_FAILURE_LIMIT):
        assert _login(holder, resident.login, WRONG).status_code == 200
    assert _refused(_login(holder, resident.login, RESIDENT_PASSWORD))
    with in_schema(odra):
        distrusted = AuditEvent.objects.get(action="login.device_distrusted")
    assert distrusted.target_login == resident.login
    assert distrusted.details == {"failures": settings.DEVICE_COOKIE_FAILURE_LIMIT}


def test_untrusted_clients_may_try_again_once_the_window_has_passed(odra, in_schema, resident):
    _attack("odra.localhost", resident.login)
    attacker = Client(HTTP_HOST="odra.localhost")
    assert _refused(_login(attacker, resident.login, RESIDENT_PASSWORD))
    with in_schema(odra):
        LoginFailure.objects.update(at=timezone.now() - timedelta(minutes=61))
    assert _logged_in(_login(attacker, resident.login, RESIDENT_PASSWORD))


def test_an_unknown_login_is_capped_with_the_same_answer(resident):
    _attack("odra.localhost", resident.login)
    _attack("odra.localhost", "nobody.here")
    known = _login(Client(HTTP_HOST="odra.localhost"), resident.login, RESIDENT_PASSWORD)
    unknown = _login(Client(HTTP_HOST="odra.localhost"), "nobody.here", RESIDENT_PASSWORD)
    assert _refused(unknown)
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)


def test_the_api_token_endpoint_counts_and_obeys_the_cap(resident, holder):
    for _ in range(settings.UNTRUSTED_LOGIN_FAILURE_LIMIT + 1):
        failed = _api_token(Client(HTTP_HOST="odra.localhost"), resident.login, WRONG)
        assert failed.status_code == 401
    refused = _api_token(Client(HTTP_HOST="odra.localhost"), resident.login, RESIDENT_PASSWORD)
    assert refused.status_code == 429
    assert json.loads(refused.content)["error"]["code"] == "locked_out"
    assert 3500 < int(refused["Retry-After"]) <= 3600
    # Failures through the API count for the web login too; the holder's browser gets in.
    assert _logged_in(_login(holder, resident.login, RESIDENT_PASSWORD))
    assert _refused(_login(Client(HTTP_HOST="odra.localhost"), resident.login, RESIDENT_PASSWORD))


def test_the_lockout_decisions_are_audited_without_a_secret(odra, in_schema, resident):
    _attack("odra.localhost", resident.login)
    for _ in range(2):
        assert _refused(_login(Client(HTTP_HOST="odra.localhost"), resident.login, WRONG))
    _attack("odra.localhost", "typed-" + WRONG)
    with in_schema(odra):
        locked = list(AuditEvent.objects.filter(action="login.untrusted_locked").order_by("at"))
        everything = str(list(AuditEvent.objects.values()))
    crossing = {"failures": settings.UNTRUSTED_LOGIN_FAILURE_LIMIT + 1, "window_minutes": 60}
    assert [(event.target_login, event.details) for event in locked] == [
        (resident.login, crossing),
        ("", {**crossing, "unknown_login": True}),
    ]
    assert WRONG not in everything
    assert RESIDENT_PASSWORD not in everything
