"""The sync status page with its live progress, and the audit log."""

import csv
import io
import re
from datetime import timedelta

from django.utils import timezone

from connectors.models import SyncRun
from connectors.services import configure_connector
from ebok.accounts import audit, services
from ebok.models import AuditEvent
from tests.support.audit_guard import audit_guard_off
from tests.support.data import RESIDENT_PASSWORD, make_resident
from tests.support.queues import queued_syncs


def run(outcome, **fields):
    return SyncRun.objects.create(connector="zsi-file", outcome=outcome, **fields)


def test_the_last_syncs_with_outcome_counts_duration_and_readable_errors(
    staff_client, odra, in_schema
):
    client, _viewer = staff_client("viewer")
    with in_schema(odra):
        applied = run(
            "applied",
            package_number=41,
            counts={"premises": 120, "ledger": 5400},
            duration_ms=2310,
            finished_at=timezone.now(),
        )
        rejected = run(
            "rejected",
            package_number=42,
            finished_at=timezone.now(),
            errors=[
                {"message": "not a date", "file": "rozrachunki.csv", "line": 7, "column": "DATA"},
                {"message": "interrupted: the process ended during the sync"},
            ],
        )
    page = client.get("/panel/sync/").content.decode()
    assert "premises: 120" in page and "ledger: 5400" in page and "2310 ms" in page
    assert f"/panel/sync/runs/{applied.pk}/" in page and f"/panel/sync/runs/{rejected.pk}/" in page
    assert "Sync now" not in page and "/panel/sync/start/" not in page  # viewers only read

    client.cookies["django_language"] = "en"
    detail = client.get(f"/panel/sync/runs/{rejected.pk}/").content.decode()
    assert "rozrachunki.csv, line 7, column DATA: not a date" in detail
    assert "interrupted: the process ended during the sync" in detail


def test_sync_now_starts_a_sync_and_the_page_follows_its_progress(staff_client, odra, in_schema):
    client, operator = staff_client("operator")
    configure_connector(
        odra, connector="zsi-rest", config={"url": "https://x.example", "token": "t"}
    )
    with in_schema(odra):
        run("applied", finished_at=timezone.now())  # an earlier run is not this one

    queued_syncs(purge=True)
    response = client.post("/panel/sync/start/")
    assert queued_syncs(purge=True) == 1
    with in_schema(odra):
        assert AuditEvent.objects.get(action="sync.started").details == {"trigger": "manual"}
    location = response["Location"]
    assert location.startswith("/panel/sync/?since=")
    since = location.split("=", 1)[1]
    page = client.get(location).content.decode()
    assert f'data-progress-url="/panel/sync/progress/?since={since}"' in page
    assert "panel/sync.js" in page

    progress = f"/panel/sync/progress/?since={since}"
    assert client.get(progress).json() == {"state": "waiting"}
    with in_schema(odra):
        current = run("running", trigger="manual", progress={"phase": "applying", "rows": 1200})
    answer = client.get(progress).json()
    assert answer["state"] == "running" and answer["progress"] == {
        "phase": "applying",
        "rows": 1200,
    }
    with in_schema(odra):
        SyncRun.objects.filter(pk=current.pk).update(
            outcome="applied", finished_at=timezone.now(), counts={"premises": 3}
        )
    answer = client.get(progress).json()
    assert (answer["state"], answer["outcome"], answer["counts"]) == (
        "finished",
        "applied",
        {"premises": 3},
    )
    with in_schema(odra):
        assert AuditEvent.objects.filter(action="sync.started", actor_login=operator.login).exists()


def test_logins_of_residents_and_staff_are_in_the_audit_log_without_any_secret(
    staff_client, people, odra, in_schema, odra_client
):
    client, admin = staff_client("admin")
    with in_schema(odra):
        issued = services.grant_access(person_source_id="O1")
        make_resident(people["nowak"], login="nowak")
    odra_client.post("/login/", {"username": "nowak", "password": "Zle-haslo-2026"})
    # Someone types their password into the login field: it must not be kept.
    odra_client.post("/login/", {"username": issued.password, "password": "x"})
    odra_client.post("/login/", {"username": "nowak", "password": RESIDENT_PASSWORD})
    regenerated = client.post(f"/panel/accounts/{issued.user.pk}/regenerate/").context["password"]
    with in_schema(odra):
        token, _row = services.issue_api_token(issued.user)

    with in_schema(odra):
        events = list(AuditEvent.objects.values_list("action", "actor_login", "target_login"))
        everything = repr(list(AuditEvent.objects.values()))
    assert ("login.succeeded", "nowak", "nowak") in events
    assert ("login.failed", "", "nowak") in events
    assert ("login.failed", "", "") in events  # not a login: not recorded as typed
    assert ("account.password_regenerated", admin.login, issued.user.login) in events
    export = client.get("/panel/audit/export.csv").content.decode("utf-8-sig")
    page = client.get("/panel/audit/").content.decode()
    for secret in (issued.password, regenerated, token, RESIDENT_PASSWORD, "Zle-haslo-2026"):
        assert secret not in everything
        assert secret not in export
        assert secret not in page


def filtered(client, **filters) -> str:
    """POST the audit log's filters; the address of the filtered log (a key, no login)."""
    response = client.post("/panel/audit/", filters)
    assert response.status_code == 302
    assert re.fullmatch(r"/panel/audit/\?search=[\w-]+", response["Location"])
    return response["Location"]


def test_the_audit_log_is_searchable_paginated_and_exported_as_csv(staff_client, odra, in_schema):
    client, _viewer = staff_client("viewer")
    with in_schema(odra):
        for number in range(60):
            audit.record("account.blocked", actor="kasia", target=f"res.{number}", reason="misuse")
        audit.record("account.granted", actor="=cmd|' /C calc'!A0", target="nowak")
        old = audit.record("login.failed", target="nowak")
        with audit_guard_off():  # history: the audit log itself refuses any UPDATE
            AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))

    first = client.get(filtered(client, action="account.blocked"))
    assert first.context["page"].paginator.count == 60
    assert len(first.context["page"].object_list) == 50
    (next_page,) = re.findall(r'href="\?(search=[\w-]+&amp;page=2)"', first.content.decode())
    second = client.get("/panel/audit/?" + next_page.replace("&amp;", "&"))
    assert len(second.context["page"].object_list) == 10
    assert second.context["form"]["action"].value() == "account.blocked"

    by_login = client.get(filtered(client, login="NOWAK")).context["page"].object_list
    assert {e.action for e in by_login} == {"account.granted", "login.failed"}
    today = timezone.localdate().isoformat()
    recent = client.get(filtered(client, login="nowak", date_from=today, date_to=today))
    assert [e.action for e in recent.context["page"].object_list] == ["account.granted"]

    page = client.get(filtered(client, login="nowak"))
    (export,) = re.findall(
        r'href="(/panel/audit/export\.csv\?search=[\w-]+)"', page.content.decode()
    )
    response = client.get(export)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["at", "action", "actor", "target", "ip_address", "details"]
    assert [row[1] for row in rows[1:]] == ["account.granted", "login.failed"]
    assert rows[1][2] == "'=cmd|' /C calc'!A0"  # a formula stays text in a spreadsheet
