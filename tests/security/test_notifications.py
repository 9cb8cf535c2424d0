"""Notices to the account holder (ASVS 2.2.3, 2.5.5, 2.8.5), through a real Celery
worker to a real SMTP server on 127.0.0.1.

Every change to how an account signs in is mailed to the holder once the change
has committed: the mail names the event, the time and the cooperative, says whom
to contact, and never carries a password, code or key. The data here is committed
for real (the worker reads it), in a cooperative of this module's own.
"""

import email
import email.policy
import re
import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from ebok.accounts import notifications, services, two_factor
from ebok.accounts.models import User
from ebok.models import AuditEvent
from ebok_platform.celery import app
from tenants.models import Cooperative
from tenants.services import onboard_cooperative
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD
from tests.support.processes import celery_worker, free_port

pytestmark = pytest.mark.live

CODE = "NOTICE"
HOST = "notice.localhost"
NAME = "Spółdzielnia Mieszkaniowa „Zawiadomienie” w Brzegu"
PHONE = "77 416 00 00"
OFFICE_MAIL = "czynsze@zawiadomienie.example"
TIME = re.compile(r"\b(\d{2}\.\d{2}\.\d{4} \d{2}:\d{2})\b")


class Mailbox:
    """The SMTP server's handler: every message it accepted, with its envelope."""

    def __init__(self):
        self._lock = threading.Lock()
        self._received: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def to(self, address: str) -> list:
        with self._lock:
            return [message for rcpt, message in self._received if address in rcpt]

    def wait_for(self, address: str, count: int = 1, timeout: float = 60) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(received := self.to(address)) >= count:
                return received
            time.sleep(0.1)
        raise AssertionError(f"{count} message(s) for {address} not within {timeout}s")


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    server = Controller(box, hostname="127.0.0.1", port=free_port())
    server.start()
    box.port = server.port
    yield box
    server.stop()


def _purge_default_queue() -> None:
    """Notices other modules committed would reach this module's worker first."""
    with app.connection_for_write() as broker:
        channel = broker.default_channel
        channel.queue_declare(settings.CELERY_TASK_DEFAULT_QUEUE)
        channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture(scope="module")
def cooperative(django_db_setup, django_db_blocker, mailbox):
    """The module's cooperative, committed, and a worker that mails through ``mailbox``."""
    with django_db_blocker.unblock():
        found = Cooperative.objects.filter(code=CODE).first()
        found = found or onboard_cooperative(
            code=CODE,
            name=NAME,
            contact_room="pok. 12",
            contact_phone=PHONE,
            contact_email=OFFICE_MAIL,
            rules_text="Regulamin e-BOK.",
        )
        connection.set_schema_to_public()
    _purge_default_queue()
    with celery_worker("notice-worker", EMAIL_HOST="127.0.0.1", EMAIL_PORT=mailbox.port):
        yield found


@pytest.fixture
def db(django_db_setup, django_db_blocker):
    """The test database exists, without pytest-django's per-test transaction: writes
    here commit, as in production (pytest-django sets the database up for tests whose
    fixtures include ``db``)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def site(db, cooperative, settings):
    """The cooperative's schema, with fast password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with schema_context(cooperative.schema_name):
        yield cooperative


def account(*, email: str | None = None, kind=User.Kind.RESIDENT) -> User:
    login = f"zaw.{uuid.uuid4().hex[:8]}"
    return User.objects.create_user(
        login,
        RESIDENT_PASSWORD,
        kind=kind,
        role=User.Role.ADMIN if kind == User.Kind.STAFF else "",
        email=f"{login}@mieszkaniec.example" if email is None else email,
        rules_accepted_version=1,
        rules_accepted_at=timezone.now(),
    )


def subject_of(kind: str, language: str) -> str:
    """The notice's subject as the catalogs of this checkout have it."""
    with translation.override(language):
        return str(notifications.NOTICES[kind].subject)


def subject_line(message) -> str:
    # Django folds a long encoded subject onto a continuation line: the parsed value
    # starts with that line's space.
    return str(message["Subject"]).strip()


def assert_notice(message, user, *, subject: str, secrets=()) -> str:
    """The holder's notice of one event, naming the cooperative, the time and the
    office's contact data, in text and HTML, with no secret anywhere; returns the text."""
    assert message["To"] == user.email
    assert subject_line(message) == f"{subject} — {NAME}"
    assert message["From"].addresses[0].display_name == NAME
    assert message["Reply-To"] == OFFICE_MAIL
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert user.login in body and NAME in body and PHONE in body
        stamp = datetime.strptime(TIME.search(body).group(1), "%d.%m.%Y %H:%M")
        now = timezone.localtime().replace(tzinfo=None)
        assert now - timedelta(minutes=3) <= stamp <= now
    everything = message.as_string() + text + html
    for secret in secrets:
        assert secret not in everything, "a secret in the mail"
    return text


def portal_client(user, same_browser_as: Client | None = None, **headers) -> Client:
    """A resident logged in with their password, asking for English pages; in the
    browser of ``same_browser_as`` (its device cookie: no new-browser notice)."""
    client = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="en", **headers)
    if same_browser_as is not None:
        device = same_browser_as.cookies[settings.DEVICE_COOKIE_NAME].value
        client.cookies[settings.DEVICE_COOKIE_NAME] = device
    response = client.post("/login/", {"username": user.login, "password": RESIDENT_PASSWORD})
    assert response.status_code == 302, response
    return client


# --- Each notice --------------------------------------------------------------------------


def test_a_password_changed_by_its_holder_is_mailed_to_them(site, mailbox):
    user = account()
    new = "Zielone-Jablko-Na-Dachu-7"
    client = portal_client(user)
    response = client.post("/haslo/", {"current": RESIDENT_PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302

    (message,) = mailbox.wait_for(user.email)
    subject = subject_of("password_changed", "en")
    assert subject == "Your e-BOK password was changed"  # the language the holder was using
    text = assert_notice(message, user, subject=subject, secrets=[new, RESIDENT_PASSWORD])
    assert "contact the office of your cooperative" in text
    assert AuditEvent.objects.filter(
        action="notice.sent", target_login=user.login, details={"notice": "password_changed"}
    ).exists()


def test_a_password_issued_by_the_office_and_the_authenticator_it_removes_are_mailed(site, mailbox):
    user = account()
    otp.enrol(user)
    admin = account(kind=User.Kind.STAFF)
    issued = services.regenerate_password(user=user, actor=admin)

    received = mailbox.wait_for(user.email, count=2)
    subjects = {subject_line(message).split(" — ")[0] for message in received}
    # Told in the cooperative's language (Polish), whichever language staff were using.
    expected = {subject_of("password_reset", "pl"), subject_of("two_factor_reset", "pl")}
    assert subjects == expected
    for message in received:
        subject = subject_line(message).split(" — ")[0]
        assert_notice(message, user, subject=subject, secrets=[issued.password])
    assert mailbox.to(admin.email) == []


def test_turning_two_factor_on_and_off_is_mailed_without_the_key_or_codes(site, mailbox):
    user = account()
    client = portal_client(user)
    codes = otp.enrol_through_the_page(client, site.schema_name, user.login, "/konto/dwuetapowa/")
    device = two_factor.TOTPDevice.objects.get(user=user, confirmed=True)
    key = two_factor.secret_text(device).replace(" ", "")
    (enabled,) = mailbox.wait_for(user.email)
    subject = subject_of("two_factor_enabled", "en")
    assert subject == "Two-step verification was turned on"
    assert_notice(enabled, user, subject=subject, secrets=[*codes, key, key.lower()])

    code = otp.code_for(device)
    assert client.post("/konto/dwuetapowa/wylacz/", {"code": code}).status_code == 302
    assert not two_factor.has_authenticator(user)
    disabled = mailbox.wait_for(user.email, count=2)[1]
    subject = subject_of("two_factor_disabled", "en")
    assert subject == "Two-step verification was turned off"
    assert_notice(disabled, user, subject=subject, secrets=[code, *codes])


def test_a_recovery_code_used_is_mailed_with_the_number_left(site, mailbox):
    user = account()
    first = portal_client(user)
    codes = otp.enrol_through_the_page(first, site.schema_name, user.login, "/konto/dwuetapowa/")
    later = portal_client(user, same_browser_as=first)
    assert later.post("/login/kod/", {"code": codes[0]})["Location"] == "/"

    used = mailbox.wait_for(user.email, count=2)[1]
    subject = subject_of("recovery_code_used", "en")
    assert subject == "A recovery code was used"
    text = assert_notice(used, user, subject=subject, secrets=codes)
    assert "You have 9 unused recovery codes left." in text


def test_new_recovery_codes_are_mailed_without_any_code(site, mailbox):
    user = account()
    client = portal_client(user)
    codes = otp.enrol_through_the_page(client, site.schema_name, user.login, "/konto/dwuetapowa/")
    new = client.post("/konto/dwuetapowa/kody/").context["codes"]

    renewed = mailbox.wait_for(user.email, count=2)[1]
    subject = subject_of("recovery_codes_renewed", "en")
    assert subject == "New recovery codes were made"
    text = assert_notice(renewed, user, subject=subject, secrets=[*codes, *new])
    assert "the earlier ones no longer work" in text


def test_a_replayed_code_is_refused_audited_and_mailed(site, mailbox):
    """ASVS 2.8.5: a code that already signed in, typed again within its validity,
    is refused on the web and in the API, logged, and its holder is told."""
    user = account()
    device = otp.enrol(user)
    code = otp.code_for(device)
    first = portal_client(user)
    assert first.post("/login/kod/", {"code": code})["Location"] == "/"

    replay = portal_client(user, same_browser_as=first)
    assert replay.post("/login/kod/", {"code": code}).status_code == 200  # refused
    assert replay.get("/")["Location"].startswith("/login/kod/")
    api = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="en")
    answer = api.post(
        "/api/v1/auth/token/",
        {"login": user.login, "password": RESIDENT_PASSWORD, "otp": code},
        content_type="application/json",
    )
    assert answer.status_code == 401

    events = AuditEvent.objects.filter(action="otp.replayed", target_login=user.login)
    assert events.count() == 2
    assert code not in str(list(events.values()))
    received = mailbox.wait_for(user.email, count=2)
    subject = subject_of("code_replayed", "en")
    assert subject == "A used one-time code was refused"
    for message in received:
        text = assert_notice(message, user, subject=subject, secrets=[code])
        assert "change your password" in text


def test_a_sign_in_from_a_new_browser_is_mailed_and_one_from_a_known_browser_is_not(site, mailbox):
    """ASVS 2.2.3: the holder hears of a sign-in from a browser without their device
    cookie (decision 0730), with the browser and address; not of the very first one."""
    user = account()
    first = portal_client(user)
    portal_client(user, same_browser_as=first)
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
    portal_client(user, HTTP_USER_AGENT=firefox)

    (message,) = mailbox.wait_for(user.email)
    subject = subject_of("new_device_login", "en")
    assert subject == "A sign-in from a new browser"
    text = assert_notice(message, user, subject=subject, secrets=[RESIDENT_PASSWORD])
    assert "Browser: Firefox" in text and "address: 127.0.0.1" in text
    assert "contact the office of your cooperative" in text
    time.sleep(2)  # the known browser's sign-in, queued before, sent nothing
    assert len(mailbox.to(user.email)) == 1


def test_a_wrong_code_is_not_taken_for_a_replay(site):
    user = account()
    device = otp.enrol(user)
    current = otp.code_for(device)
    wrong = f"{(int(current) + 1) % 1_000_000:06d}"
    assert two_factor.check_code(user, wrong) is None
    assert not AuditEvent.objects.filter(action="otp.replayed", target_login=user.login)


# --- When nothing is sent -------------------------------------------------------------------


def test_nothing_is_sent_when_the_change_rolls_back(site, mailbox):
    user = account()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.change_password(user=user, current=RESIDENT_PASSWORD, new="Rzeka-Plynie-Wolno-4")
        raise RuntimeError("the rest of the request failed")
    user.refresh_from_db()
    assert user.check_password(RESIDENT_PASSWORD)

    # One worker takes the queue in order: once this later notice has arrived, one
    # queued by the rolled-back change would have arrived before it.
    services.regenerate_password(user=user)
    (only,) = mailbox.wait_for(user.email)
    assert subject_line(only).startswith(subject_of("password_reset", "pl"))
    time.sleep(1)
    assert len(mailbox.to(user.email)) == 1


def test_an_account_without_an_address_is_skipped_and_audited(site, mailbox):
    user = account(email="")
    before = mailbox.count()
    services.change_password(user=user, current=RESIDENT_PASSWORD, new="Kamien-Lezy-Cicho-5")
    skipped = AuditEvent.objects.get(action="notice.skipped", target_login=user.login)
    assert skipped.details == {"notice": "password_changed", "reason": "no e-mail address"}

    witness = account()
    services.regenerate_password(user=witness)
    mailbox.wait_for(witness.email)
    assert mailbox.count() == before + 1
