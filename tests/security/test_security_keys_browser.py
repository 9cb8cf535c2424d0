"""Security keys (WebAuthn, ASVS 2.3.2) in the system Chromium with a virtual FIDO2
authenticator (Chrome DevTools Protocol) against a real gunicorn: registration on
the account page, login with password + key, the key's host bound to its
cooperative, replayed and cloned answers refused, removal audited
(docs/decisions/0790-security-keys.md)."""

import json
import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from ebok.accounts.models import SecurityKey, User
from ebok.models import AuditEvent
from tenants.services import onboard_cooperative
from tests.support import data, otp
from tests.support.browser import chromium, staff_logs_in
from tests.support.processes import web_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

HOME = "E2EKEYA"
OTHER = "E2EKEYB"
STAFF = "admin.keys"
PASSWORD = data.RESIDENT_PASSWORD
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": False,
    "hasUserVerification": True,
    "isUserVerified": True,
}


def _cooperative(code: str):
    cooperative = onboard_cooperative(
        code=code,
        name=f"Spółdzielnia Mieszkaniowa {code}",
        contact_room="pok. 1",
        contact_address="ul. Testowa 1, 55-200 Oława",
        contact_phone="71 000 00 00",
        rules_text="Regulamin.",
    )
    with schema_context(cooperative.schema_name):
        data.mark_fresh()
        data.make_staff(STAFF, role="admin", password=PASSWORD)
    return cooperative


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        home, other = _cooperative(HOME), _cooperative(OTHER)
        with schema_context(other.schema_name):
            otp.enrol(User.objects.get(login=STAFF))
        connection.set_schema_to_public()
    with web_server() as port:
        yield {
            "home": f"http://{HOME.lower()}.localhost:{port}",
            "other": f"http://{OTHER.lower()}.localhost:{port}",
            "home_schema": home.schema_name,
            "other_schema": other.schema_name,
        }
    with django_db_blocker.unblock():
        home.delete(force_drop=True)
        other.delete(force_drop=True)
        connection.set_schema_to_public()


@pytest.fixture(scope="module")
def page(site):
    """One tab with its virtual authenticator, kept through the whole story (the
    authenticator belongs to the tab); English for the visible texts."""
    with chromium() as browser:
        context = browser.new_context(locale="en-GB")
        opened = context.new_page()
        devtools = context.new_cdp_session(opened)
        devtools.send("WebAuthn.enable")
        devtools.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        opened.answers = []
        opened.on(
            "request",
            lambda request: (
                request.url.split("?")[0].endswith("/panel/otp/key/")
                and opened.answers.append(request.post_data)
            ),
        )
        yield opened
        context.close()


@pytest.fixture
def database(django_db_blocker, monkeypatch):
    """The database as the server sees it: committed at once, no test transaction
    (the server must see what a test changes). Playwright's sync API runs an event
    loop in this thread, which Django's guard would take for async code."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def _events(schema: str, action: str) -> list[AuditEvent]:
    with schema_context(schema):
        return list(AuditEvent.objects.filter(action=action, actor_login=STAFF).order_by("pk"))


def _password_step(page, base: str) -> None:
    page.goto(f"{base}/panel/")
    page.fill("input[name=username]", STAFF)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/panel/otp/"))


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url("**/login/")


def _post_json(page, path: str, body: str | None = None) -> int:
    """A POST from this session's page, with its CSRF token, as any script could send
    it; the status of the answer."""
    token = page.locator("[name=csrfmiddlewaretoken]").first.input_value()
    return page.evaluate(
        """([url, body, token]) => fetch(url, {
            method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token},
            body: body,
        }).then((response) => response.status)""",
        [path, body or "{}", token],
    )


def test_both_cooperatives_are_committed_for_the_server(db, site):
    for schema in (site["home_schema"], site["other_schema"]):
        with schema_context(schema):
            assert User.objects.filter(login=STAFF, kind=User.Kind.STAFF).exists()


def test_a_security_key_is_registered_and_then_replaces_the_code_at_login(page, site, database):
    base = site["home"]
    staff_logs_in(page, base, STAFF, PASSWORD)
    page.goto(f"{base}/panel/account/")
    page.click("#add-security-key")
    page.wait_for_url("**/panel/account/keys/new/")
    page.fill("input[name=name]", "blue key")
    page.click("#register-security-key")
    page.wait_for_url("**/panel/account/")
    expect(page.locator("table.security-keys td").first).to_have_text("blue key")
    assert [
        event.details["key"] for event in _events(site["home_schema"], "webauthn.registered")
    ] == ["blue key"]

    _log_out(page)
    _password_step(page, base)
    page.click("#use-security-key")
    page.wait_for_url(re.compile(r"/panel/people/"))
    assert len(_events(site["home_schema"], "webauthn.verified")) == 1
    with schema_context(site["home_schema"]):
        assert SecurityKey.objects.get().sign_count > 0


def test_an_old_answer_posted_again_is_refused_and_audited(page, site, database):
    base = site["home"]
    old_answer = page.answers[-1]
    _log_out(page)
    _password_step(page, base)
    failures = len(_events(site["home_schema"], "webauthn.failed"))

    # Without a challenge of this session, then with a fresh one it does not answer.
    assert _post_json(page, f"{base}/panel/otp/key/", old_answer) == 400
    assert _post_json(page, f"{base}/panel/otp/key/options/") == 200
    assert _post_json(page, f"{base}/panel/otp/key/", old_answer) == 400

    assert len(_events(site["home_schema"], "webauthn.failed")) == failures + 2
    page.goto(f"{base}/panel/people/")
    assert "/panel/otp/" in page.url  # still only the password


def test_a_key_whose_counter_does_not_grow_is_refused_as_a_clone(page, site, database):
    base = site["home"]
    with schema_context(site["home_schema"]):
        SecurityKey.objects.update(sign_count=10**9)
    page.goto(f"{base}/panel/otp/")
    page.click("#use-security-key")
    expect(page.locator("[data-webauthn-error]")).to_be_visible()
    assert "/panel/otp/" in page.url
    [clone] = _events(site["home_schema"], "webauthn.cloned")
    assert clone.details["stored"] == 10**9
    with schema_context(site["home_schema"]):
        SecurityKey.objects.update(sign_count=0)


def test_the_key_does_not_open_another_cooperatives_host(page, site, database):
    other = site["other"]
    with schema_context(site["home_schema"]):
        key = SecurityKey.objects.get()
    with schema_context(site["other_schema"]):
        # Even were the same credential stored there, its host is another relying party.
        SecurityKey.objects.create(
            user=User.objects.get(login=STAFF),
            name="copied",
            credential_id=key.credential_id,
            public_key=bytes(key.public_key),
            rp_id=key.rp_id,
        )
    _password_step(page, other)
    page.click("#use-security-key")
    expect(page.locator("[data-webauthn-error]")).to_be_visible()  # the browser has none for it

    answer = json.loads(page.answers[0])
    assert _post_json(page, f"{other}/panel/otp/key/options/") == 200
    assert _post_json(page, f"{other}/panel/otp/key/", json.dumps(answer)) == 400
    assert len(_events(site["other_schema"], "webauthn.failed")) == 1
    page.goto(f"{other}/panel/people/")
    assert "/panel/otp/" in page.url


def test_removing_a_key_is_audited_and_it_no_longer_opens_the_account(page, site, database):
    base = site["home"]
    page.goto(f"{base}/panel/otp/")  # the password was given in the test before
    page.click("#use-security-key")
    page.wait_for_url(re.compile(r"/panel/people/"))
    page.goto(f"{base}/panel/account/")
    page.locator("table.security-keys").get_by_role("button", name="Remove").click()

    # The session had been verified by that very key: now the code is asked for,
    # and the key is no longer offered.
    page.wait_for_url(re.compile(r"/panel/otp/\?next="))
    expect(page.get_by_text("The security key was removed.")).to_be_visible()
    expect(page.locator("#use-security-key")).to_have_count(0)
    [removal] = _events(site["home_schema"], "webauthn.removed")
    assert removal.details["key"] == "blue key"
    with schema_context(site["home_schema"]):
        assert not SecurityKey.objects.exists()
