"""Security checks that raise alerts for the operators (ASVS 8.1.4, 11.1.7, 11.1.8) and
the scheduled deletion of old personal traces (ASVS 8.3.8), against real PostgreSQL,
Redis, an SMTP server on 127.0.0.1 and a Celery worker."""

import datetime as dt
import io
import json
import logging
import os
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors.models import SyncRun
from ebok.accounts import audit
from ebok.accounts.models import User
from ebok.models import ApiToken, AuditEvent, LoginRecord
from monitoring import counters
from monitoring.models import SecurityAlert
from monitoring.retention import package_folders
from monitoring.services import check_cooperative
from monitoring.tasks import dispatch_checks_task
from tenants.models import Cooperative, OperatorAuditEvent
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident, make_staff
from tests.support.processes import celery_worker, free_port

BACKEND = "ebok.accounts.backends.AccountBackend"
OPERATOR_MAIL = "dyzurny@platforma.example"
ATTACKER = "203.0.113.66"


# --- A real SMTP server --------------------------------------------------------------------


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def mail_to_smtp(smtp, settings):
    controller, inbox = smtp
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return inbox


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("dyzurny", "Operator-platformy-2026", email=OPERATOR_MAIL)


def _insert_at(model, at, **fields):
    """A row of an (append-only) audit table written as if at ``at``: INSERT is the
    only statement the guard lets through, and ``at`` is set on creation only."""
    fields = {"actor_login": "", "ip_address": None, "details": {}, **fields, "at": at}
    fields["details"] = json.dumps(fields["details"])
    columns = ", ".join(fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks}) RETURNING id",
            list(fields.values()),
        )
        return model.objects.get(pk=cursor.fetchone()[0])


def _events(cooperative, action, n, at=None, **fields):
    fields.setdefault("target_login", "")
    with schema_context(cooperative.schema_name):
        for _ in range(n):
            _insert_at(AuditEvent, at or timezone.now(), action=action, **fields)


@pytest.fixture(autouse=True)
def _forget_traffic():
    """Other modules' tests made requests that were counted (API errors, volume); the
    checks here must see only what each test does."""
    traffic = counters._client()
    for key in traffic.scan_iter("*:traffic:*"):
        traffic.delete(key)


def _check(cooperative, now=None):
    with schema_context(cooperative.schema_name):
        return check_cooperative(cooperative, now=now)


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError("not within the time")


# --- Detection -------------------------------------------------------------------------------


def test_failed_logins_over_the_threshold_raise_one_alert_mailed_and_logged_once(
    odra, warta, operator, mail_to_smtp, caplog
):
    _events(odra, "login.failed", 10, target_login="jan.nowak", ip_address="198.51.100.7")
    _events(odra, "login.failed", 3, target_login="anna.lis", ip_address="198.51.100.8")
    _events(warta, "login.failed", 12, target_login="jan.nowak", ip_address="198.51.100.9")

    with caplog.at_level(logging.WARNING, logger="ebok.security"):
        raised = _check(odra)
    assert [(a.kind, a.subject, a.count) for a in raised] == [
        ("failed_logins_account", "jan.nowak", 10)
    ]
    [record] = [r for r in caplog.records if r.name == "ebok.security"]
    assert record.levelno == logging.WARNING and "ODRA" in record.getMessage()
    [(recipients, mail)] = mail_to_smtp.messages
    assert recipients == [OPERATOR_MAIL]
    assert "ODRA" in mail["Subject"] and "jan.nowak" in mail.get_content()

    # The condition lasts: later checks refresh the same alert, nobody is told again.
    _events(odra, "login.failed", 2, target_login="jan.nowak", ip_address="198.51.100.7")
    assert _check(odra) == []
    alert = SecurityAlert.objects.get(cooperative=odra)
    assert (alert.count, alert.ended_at) == (12, None)
    assert len(mail_to_smtp.messages) == 1

    # The window moves past the failures: the alert ends; a new burst is a new alert.
    later = timezone.now() + dt.timedelta(minutes=settings.SECURITY_ALERT_WINDOW_MINUTES + 1)
    assert _check(odra, now=later) == []
    alert.refresh_from_db()
    assert alert.ended_at == later
    _events(odra, "login.failed", 10, at=later, target_login="jan.nowak")
    assert len(_check(odra, now=later)) == 1
    assert SecurityAlert.objects.filter(cooperative=odra).count() == 2
    assert len(mail_to_smtp.messages) == 2
    # WARTA's own failures are its own alert, never ODRA's.
    assert [a.subject for a in _check(warta)] == ["jan.nowak"]


def test_normal_activity_raises_nothing(odra, operator, mail_to_smtp):
    _events(odra, "login.failed", 9, target_login="jan.nowak", ip_address="198.51.100.7")
    _events(odra, "login.succeeded", 200, actor_login="jan.nowak", ip_address="198.51.100.7")
    _events(odra, "login.locked_out", 2, target_login="jan.nowak", ip_address="198.51.100.7")
    _events(odra, "access.denied", 5, actor_login="anna.lis", details={"seen": 1})
    with schema_context(odra.schema_name):
        for outcome in ("failed", "failed", "applied", "failed", "failed"):
            SyncRun.objects.create(connector="zsi-file", outcome=outcome)
    assert _check(odra) == []
    assert not SecurityAlert.objects.exists() and mail_to_smtp.messages == []


def test_every_kind_of_unusual_activity_is_detected(odra, in_schema, odra_client, settings):
    """Lockouts, refusals, a staff member reading many cards, API error bursts, request
    volume and failing syncs, each over a (low) threshold of its own."""
    before = counters.recent(odra.schema_name, counters.REQUESTS, minutes=60)
    api_before = counters.recent(odra.schema_name, counters.API_ERRORS, minutes=60)
    settings.SECURITY_ALERT_THRESHOLDS = {
        **settings.SECURITY_ALERT_THRESHOLDS,
        "lockouts": 1,
        "denials_account": 25,
        "denials_address": 25,
        "staff_reads": 30,
        "api_errors": api_before + 4,
        "requests": before + 10,
        "sync_failures": 3,
    }
    with in_schema(odra):
        resident = make_resident(make_person("A1", "Wiśniewska", "Ewa"))
        make_staff("kasjer.jan")
    for _ in range(settings.AXES_FAILURE_LIMIT):  # a real lockout, through the login page
        odra_client.post(
            "/login/",
            {"username": resident.login, "password": "zle-haslo-1234"},
            REMOTE_ADDR=ATTACKER,
        )
    for _ in range(4):  # a burst of refused API tokens
        assert odra_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer nie-ma").status_code == 401
    for _ in range(6):
        odra_client.get("/login/")
    # 1 + 10 refusals in one minute are audited as two events, seen=1 and seen=10, and
    # another minute's 20 from one address as three (1, 10, 20 as the latest).
    minute = timezone.now().replace(second=0, microsecond=0)
    denied = {"actor_login": "kasjer.jan", "target_login": ""}
    for seen, at, address in ((1, minute, None), (10, minute, None)) + tuple(
        (n, minute - dt.timedelta(minutes=2), ATTACKER) for n in (1, 10, 20)
    ):
        _events(
            odra,
            "access.denied",
            1,
            at=at,
            ip_address=address,
            details={"kind": "forbidden", "seen": seen},
            **denied,
        )
    with in_schema(odra):
        for _ in range(3):
            SyncRun.objects.create(connector="zsi-file", outcome="rejected")
    for n in range(30):  # 30 different people's cards, one of them twice
        _events(
            odra, "personal_data.viewed", 1, actor_login="kasjer.jan", details={"person": f"O{n}"}
        )
    _events(odra, "personal_data.viewed", 1, actor_login="kasjer.jan", details={"person": "O0"})
    _events(odra, "personal_data.viewed", 29, actor_login="anna.lis", details={"person": "O1"})

    found = {(a.kind, a.subject): a.count for a in _check(odra)}
    assert found[("lockouts", "")] >= 1
    with in_schema(odra):
        assert AuditEvent.objects.filter(action="login.locked_out", target_login=resident.login)
    assert found[("denials_account", "kasjer.jan")] == 30
    assert ("denials_address", ATTACKER) not in found  # 20 from that address: under 25
    assert found[("staff_reads", "kasjer.jan")] == 30
    assert ("staff_reads", "anna.lis") not in found  # one card, 29 times
    assert found[("api_errors", "")] >= api_before + 4
    assert found[("requests", "")] >= before + 10
    assert found[("sync_failures", "")] == 3


# --- The operator console ------------------------------------------------------------------


@pytest.fixture
def console(apex_client, operator):
    apex_client.force_login(operator, backend=BACKEND)
    otp.pass_second_factor(apex_client, otp.code_for(otp.enrol(operator)), "/otp/")
    return apex_client


def test_operators_see_and_acknowledge_alerts_in_the_console_audited(odra, console, operator):
    _events(odra, "login.failed", 25, ip_address=ATTACKER)
    [alert] = _check(odra)
    page = console.get("/alerts/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and ATTACKER in page.content.decode()
    assert list(page.context["page"].object_list) == [alert]

    response = console.post(f"/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == "/alerts/"
    alert.refresh_from_db()
    assert alert.acknowledged_by == "dyzurny" and alert.acknowledged_at is not None
    event = OperatorAuditEvent.objects.get(action="security_alert.acknowledged")
    assert (event.actor_login, event.cooperative_code) == ("dyzurny", "ODRA")
    assert event.details["alert"] == alert.pk

    # A second acknowledgement changes nothing and is not audited again.
    console.post(f"/alerts/{alert.pk}/acknowledge/")
    assert OperatorAuditEvent.objects.filter(action="security_alert.acknowledged").count() == 1
    # Nobody but an operator reaches the page or the action.
    stranger = Client(HTTP_HOST="localhost")
    assert stranger.post(f"/alerts/{alert.pk}/acknowledge/")["Location"].startswith("/login/")
    resident = User.objects.create_user("ktos", RESIDENT_PASSWORD, kind=User.Kind.RESIDENT)
    stranger.force_login(resident, backend=BACKEND)
    assert stranger.get("/alerts/").status_code == 404
    assert stranger.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404


# --- The periodic check through a real worker ------------------------------------------------


@pytest.mark.live
def _mails_about(inbox, code: str) -> list:
    return [(to, mail) for to, mail in inbox.messages if code in mail["Subject"]]


def test_the_periodic_check_runs_in_each_cooperatives_schema_on_a_real_worker(
    django_db_setup, django_db_blocker, smtp
):
    controller, inbox = smtp
    with django_db_blocker.unblock():
        odra = Cooperative.objects.get(code="ODRA")
        warta = Cooperative.objects.get(code="WARTA")
        operator = User.objects.create_superuser("dyzurny.live", "x" * 16, email=OPERATOR_MAIL)
        _events(odra, "login.failed", 11, target_login="jan.nowak", ip_address="198.51.100.7")
        _events(warta, "login.failed", 2, target_login="jan.nowak", ip_address="198.51.100.7")
        try:
            env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": controller.port}
            with celery_worker("security-checks", **env):
                dispatch_checks_task.apply_async()
                # Other modules' cooperatives are checked too; only ODRA's and WARTA's matter.
                odras = SecurityAlert.objects.filter(cooperative=odra)
                alert = _wait_for(lambda: odras.filter(notified_at__isnull=False))
                _wait_for(lambda: _mails_about(inbox, "ODRA"))
            assert [(a.cooperative.code, a.kind, a.subject, a.count) for a in alert] == [
                ("ODRA", "failed_logins_account", "jan.nowak", 11)
            ]
            assert not SecurityAlert.objects.filter(cooperative=warta).exists()
            [(recipients, mail)] = _mails_about(inbox, "ODRA")
            assert recipients == [OPERATOR_MAIL] and "ODRA" in mail["Subject"]
        finally:
            SecurityAlert.objects.all().delete()
            with connection.cursor() as cursor:  # the ORM's cascade would look for tenant tables
                cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = %s", [operator.pk])
            for cooperative in (odra, warta):
                with schema_context(cooperative.schema_name), audit.rewriting(audit.RETENTION):
                    AuditEvent.objects.filter(target_login="jan.nowak").delete()
            connection.set_schema_to_public()


# --- Retention -------------------------------------------------------------------------------


def _aged(queryset, field, when):
    queryset.update(**{field: when})


def _traces(cooperative, now, tag):
    """One record of each kind just past its limit ("old") and one just within it."""
    days = dt.timedelta(days=1)
    limits = {
        "audit": now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS),
        "login": now - dt.timedelta(days=settings.LOGIN_RETENTION_DAYS),
        "token": now - dt.timedelta(days=settings.API_TOKEN_GRACE_DAYS),
        "sync": now - dt.timedelta(days=settings.SYNC_RECORD_RETENTION_DAYS),
    }
    user = make_resident(make_person(f"R{tag}", "Zielińska", "Ola"), login=f"ola.{tag}")
    kept = {}
    for age, shift in (("old", -days), ("new", days)):
        event = _insert_at(
            AuditEvent, limits["audit"] + shift, action="login.succeeded", target_login=""
        )
        login = LoginRecord.objects.create(user=user, ip_address="198.51.100.1")
        _aged(LoginRecord.objects.filter(pk=login.pk), "at", limits["login"] + shift)
        token = ApiToken.objects.create(
            user=user, key_hash=f"{tag}{age}".ljust(64, "0"), expires_at=limits["token"] + shift
        )
        run = SyncRun.objects.create(connector="zsi-file", outcome="failed")
        _aged(SyncRun.objects.filter(pk=run.pk), "started_at", limits["sync"] + shift)
        log = AccessLog.objects.create(
            user_agent="x", ip_address="198.51.100.1", username=user.login, http_accept="*/*"
        )
        _aged(AccessLog.objects.filter(pk=log.pk), "attempt_time", limits["login"] + shift)
        kept[age] = {"audit": event, "login": login, "token": token, "run": run, "log": log}
    # The applied run the tables hold stays, however old.
    applied = SyncRun.objects.create(connector="zsi-file", outcome="applied", finished_at=now)
    _aged(SyncRun.objects.filter(pk=applied.pk), "started_at", limits["sync"] - 100 * days)
    valid_token = ApiToken.objects.create(
        user=user, key_hash=f"{tag}valid".ljust(64, "0"), expires_at=now + days
    )
    attempt_old, attempt_new = (
        AccessAttempt.objects.create(
            user_agent="x",
            ip_address=ATTACKER,
            username=f"{tag}{n}",
            http_accept="*/*",
            get_data="",
            post_data="",
            failures_since_start=1,
        )
        for n in (1, 2)
    )
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    _aged(AccessAttempt.objects.filter(pk=attempt_old.pk), "attempt_time", now - cool_off - days)
    Session.objects.create(
        session_key=f"{tag}old".ljust(32, "x"), session_data="", expire_date=now - days
    )
    Session.objects.create(
        session_key=f"{tag}new".ljust(32, "x"), session_data="", expire_date=now + days
    )
    kept["old"].update(attempt=attempt_old)
    kept["new"].update(attempt=attempt_new, applied=applied, valid_token=valid_token)
    return kept


def _package_files(cooperative, now):
    folder = package_folders(cooperative)[0]  # the default archive folder
    folder.mkdir(parents=True, exist_ok=True)
    old, new = folder / "ODRA_1.zip", folder / "ODRA_2.zip"
    limit = (now - dt.timedelta(days=settings.PACKAGE_RETENTION_DAYS)).timestamp()
    for path, when in ((old, limit - 86400), (new, limit + 86400)):
        path.write_bytes(b"PK")
        os.utime(path, (when, when))
    return old, new


def _exists(record) -> bool:
    return type(record).objects.filter(pk=record.pk).exists()


def test_retention_deletes_exactly_what_is_past_its_limit_in_every_cooperative(odra, warta):
    now = timezone.now()
    traces, files = {}, {}
    for cooperative in (odra, warta):
        with schema_context(cooperative.schema_name):
            traces[cooperative.code] = _traces(cooperative, now, cooperative.code.lower())
        files[cooperative.code] = _package_files(cooperative, now)
    audit_limit = now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    operator_old, operator_new = (
        _insert_at(OperatorAuditEvent, audit_limit + shift, action="login", cooperative_code="")
        for shift in (-dt.timedelta(days=1), dt.timedelta(days=1))
    )

    dry = io.StringIO()
    call_command("purge_expired_records", "--dry-run", stdout=dry)
    assert (
        "ODRA: would delete audit_events=1, login_records=1, api_tokens=1, sync_runs=1"
        in dry.getvalue()
    )
    assert "package_files=1" in dry.getvalue() and "operator_audit_events=1" in dry.getvalue()
    for code in ("ODRA", "WARTA"):
        with schema_context(code.lower()):
            assert all(_exists(r) for r in traces[code]["old"].values())
        assert files[code][0].exists()

    out = io.StringIO()
    call_command("purge_expired_records", stdout=out)
    assert (
        "WARTA: deleted audit_events=1, login_records=1, api_tokens=1, sync_runs=1"
        in out.getvalue()
    )
    for code in ("ODRA", "WARTA"):
        with schema_context(code.lower()):
            assert not any(_exists(r) for r in traces[code]["old"].values())
            assert all(_exists(r) for r in traces[code]["new"].values())
            assert list(
                Session.objects.filter(session_key__startswith=code.lower()).values_list(
                    "session_key", flat=True
                )
            ) == [f"{code.lower()}new".ljust(32, "x")]
        old_file, new_file = files[code]
        assert not old_file.exists() and new_file.exists()
    assert not _exists(operator_old) and _exists(operator_new)


def test_an_unknown_cooperative_is_a_clear_error_and_deletes_nothing(odra):
    from django.core.management.base import CommandError

    with schema_context(odra.schema_name):
        event = _insert_at(
            AuditEvent,
            timezone.now() - dt.timedelta(days=5000),
            action="login.succeeded",
            target_login="",
        )
    with pytest.raises(CommandError, match="No cooperative 'NIEMA'"):
        call_command("purge_expired_records", "--cooperative", "NIEMA")
    with schema_context(odra.schema_name):
        assert _exists(event)
