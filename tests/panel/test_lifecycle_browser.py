"""The e-BOK account lifecycle end to end, in a real browser against gunicorn:
grant → the resident logs in with the letter's password → regenerate → block →
erase, and what each step leaves in the database."""

import io
import re
from contextlib import contextmanager
from datetime import timedelta

import pypdf
import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from ebok.accounts.models import User
from ebok.models import ApiToken, ErasureRecord, LoginRecord
from tenants.services import onboard_cooperative
from tests.support.browser import chromium, staff_logs_in
from tests.support.data import RESIDENT_PASSWORD, household, make_staff
from tests.support.processes import web_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

CODE = "E2EPANEL"
STAFF_LOGIN = "rent.operator"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """A cooperative of its own with two neighbours and an operator, committed,
    served by a real gunicorn."""
    with django_db_blocker.unblock():
        cooperative = onboard_cooperative(
            code=CODE,
            name="Spółdzielnia Mieszkaniowa „Panel” w Oławie",
            contact_room="pok. nr 3",
            contact_address="ul. 1 Maja 22, 55-200 Oława",
            contact_phone="71 303 93 58",
            rules_text="Regulamin e-BOK.",
        )
        with schema_context(cooperative.schema_name):
            household()
            make_staff(STAFF_LOGIN, role="operator")
        connection.set_schema_to_public()
    with web_server() as port:
        yield {"cooperative": cooperative, "base": f"http://{CODE.lower()}.localhost:{port}"}


@pytest.fixture
def db_access(django_db_blocker, monkeypatch):
    """Reads of what the server committed (Playwright's sync API runs an event
    loop in this thread, which Django would otherwise refuse)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    @contextmanager
    def in_site():
        try:
            with schema_context(CODE.lower()):
                yield
        finally:
            # Opened while the browser's event loop ran: close it here, or the
            # test database could not be dropped at the end of the session.
            connection.close()

    with django_db_blocker.unblock():
        yield in_site


def issued_credentials(page, action):
    """Press the button that issues a password; read it from the page (once)."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click(action)
    assert "no-store" in answer.value.headers["cache-control"]
    return page.inner_text("#issued-login"), page.inner_text("#issued-password")


def letter_text(page) -> str:
    with page.expect_download() as download:
        page.click("#letter")
    path = download.value.path()
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages)


def resident_logs_in(page, base, login, password) -> bool:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return "/login/" not in page.url


def session_is_gone(page, base) -> bool:
    page.goto(f"{base}/haslo/")
    return "/login/" in page.url


def test_grant_login_regenerate_block_erase(site, db_access):
    base = site["base"]
    with chromium() as browser:
        staff = browser.new_context(locale="pl-PL").new_page()
        resident = browser.new_context(locale="pl-PL").new_page()

        # Staff find the person by name and grant access: login and password once, and the letter.
        staff_logs_in(staff, base, STAFF_LOGIN, RESIDENT_PASSWORD)
        staff.fill("input[name=q]", "Kowalska")
        staff.press("input[name=q]", "Enter")
        staff.click("text=Anna Kowalska")
        staff.wait_for_url(re.compile(r"/panel/people/O1/$"))
        login, password = issued_credentials(staff, "form[action$='/grant/'] button")
        assert len(password) >= 12
        letter = letter_text(staff)
        assert login in letter and password in letter
        assert f"{CODE.lower()}.localhost" in letter
        assert "Spółdzielnia Mieszkaniowa „Panel” w Oławie" in letter
        assert "71 303 93 58" in letter

        # The resident logs in with the letter's password (then must choose their own).
        assert resident_logs_in(resident, base, login, password)
        assert "/haslo/" in resident.url

        # Regenerate: the old password fails and the resident's open session is gone.
        staff.goto(f"{base}/panel/people/O1/")
        same_login, new_password = issued_credentials(staff, "form[action$='/regenerate/'] button")
        assert same_login == login and new_password != password
        assert session_is_gone(resident, base)
        assert not resident_logs_in(resident, base, login, password)
        assert resident_logs_in(resident, base, login, new_password)

        # Block: every session ends and the login is refused.
        staff.goto(f"{base}/panel/people/O1/")
        staff.select_option("select[name=reason]", "misuse")
        staff.click("form[action$='/block/'] button")
        staff.wait_for_load_state()
        assert session_is_gone(resident, base)
        assert not resident_logs_in(resident, base, login, new_password)

        with db_access():
            account = User.objects.get(login=login)
            assert account.blocked_at is not None and account.block_reason == "misuse"
            ApiToken.objects.create(
                user=account, key_hash="f" * 64, expires_at=timezone.now() + timedelta(hours=1)
            )
            session_keys = list(
                LoginRecord.objects.filter(user=account).values_list("session_key", flat=True)
            )
            before = personal_rows(account.pk, login)
        assert len(session_keys) == 2
        assert before["login_records"] == 2 and before["tokens"] == 1
        assert before["axes_attempts"] >= 1 and before["axes_logs"] >= 1
        assert before["audit_mentions"] > 0

        # Erase on the written request: date and reference of the letter.
        staff.goto(f"{base}/panel/people/O1/")
        staff.click("a[href$='/erase/']")
        staff.fill("input[name=request_reference]", "L.dz. 123/2026")
        staff.check("input[name=confirm]")
        staff.click("main form button[type=submit]")
        staff.wait_for_url(re.compile(r"/panel/people/O1/$"))
        warning = staff.inner_text(".warning")
        assert "L.dz. 123/2026" in warning
        assert timezone.localdate().strftime("%d.%m.%Y") in warning

        with db_access():
            after = personal_rows(account.pk, login)
            assert not any(SessionStore().exists(key) for key in session_keys)
            record = ErasureRecord.objects.get(person_source_id="O1")
            assert record.request_reference == "L.dz. 123/2026"
            assert record.erased_by == STAFF_LOGIN
            assert no_session_of(account.pk)
            pseudonymised = count(
                "SELECT count(*) FROM ebok_audit_event WHERE target_login = %s",
                [f"[erased #{record.pk}]"],
            )
        assert after == dict.fromkeys(before, 0)
        assert pseudonymised >= 5  # granted, logins, regenerated, blocked, erased

        # Granting again is a conscious act: refused until a new request is confirmed.
        staff.click("form[action$='/grant/'] button")
        staff.wait_for_load_state()
        assert staff.locator(".messages .error").count() == 1
        staff.check("input[name=confirm_after_erasure]")
        new_login, _again = issued_credentials(staff, "form[action$='/grant/'] button")
        assert new_login != ""


def count(sql, params) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def personal_rows(user_id, login) -> dict:
    """Every row of the portal that holds the account or names its login."""
    return {
        "accounts": count(
            "SELECT count(*) FROM accounts_user WHERE id = %s OR login = %s", [user_id, login]
        ),
        "login_records": count(
            "SELECT count(*) FROM ebok_login_record WHERE user_id = %s", [user_id]
        ),
        "tokens": count("SELECT count(*) FROM ebok_api_token WHERE user_id = %s", [user_id]),
        "axes_attempts": count(
            "SELECT count(*) FROM axes_accessattempt WHERE username = %s", [login]
        ),
        "axes_logs": count("SELECT count(*) FROM axes_accesslog WHERE username = %s", [login]),
        "axes_failures": count(
            "SELECT count(*) FROM axes_accessfailurelog WHERE username = %s", [login]
        ),
        "audit_mentions": count(
            "SELECT count(*) FROM ebok_audit_event WHERE actor_login = %s OR target_login = %s",
            [login, login],
        ),
    }


def no_session_of(user_id) -> bool:
    """No stored session, decoded, belongs to the account."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data FROM django_session")
        rows = cursor.fetchall()
    store = SessionStore()
    return all(store.decode(data).get("_auth_user_id") != str(user_id) for _key, data in rows)


def test_the_letter_keeps_polish_letters_and_every_first_step(odra):
    # (Also makes pytest-django set the test database up when this module runs alone.)
    from types import SimpleNamespace

    from ebok.panel.letter import access_letter

    account = SimpleNamespace(login="żółć.1234", display_name="Źdźbło Łąckie-Ćma")
    pdf = access_letter(cooperative=odra, user=account, password="abcDEF34679xyzQW")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "Spółdzielnia Mieszkaniowa „ODRA” w Oławie",
        "pok. nr 3",
        "ul. 1 Maja 22, 55-200 Oława",
        "71 303 93 58",
        "Źdźbło Łąckie-Ćma",
        "żółć.1234",
        "abcDEF34679xyzQW",
        "http://odra.localhost",
    ):
        assert expected in text
    assert re.search(r"\b1\. .*\n?.*\b2\. .*\b3\. .*\b4\. ", text, re.S)
