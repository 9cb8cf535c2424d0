"""The account lifecycle through the console: what each step does, what it
leaves behind, and that an issued password is shown once and kept nowhere."""

import base64
import io
import json
import logging
import re
from datetime import date, timedelta

import pypdf
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

from ebok.accounts import services
from ebok.accounts.models import User
from ebok.models import ApiToken, AuditEvent, ErasureRecord, LoginRecord
from tests.panel.conftest import logged_in

LETTER = re.compile(r'href="data:application/pdf;base64,([A-Za-z0-9+/=]+)"')


def grant_in_panel(client, source_id="O1", **data):
    response = client.post(f"/panel/people/{source_id}/grant/", data)
    assert response.status_code == 200, response.content[:500]
    return response


def letter_of(response) -> str:
    pdf = base64.b64decode(LETTER.search(response.content.decode()).group(1))
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_granting_shows_the_password_once_with_its_letter_and_keeps_only_a_hash(
    staff_client, people, odra, in_schema, caplog
):
    client, staff = staff_client("operator")
    caplog.set_level(logging.DEBUG)
    response = grant_in_panel(client)
    login, password = response.context["account"].login, response.context["password"]
    assert "no-store" in response["Cache-Control"]
    assert re.fullmatch(r"[a-zA-Z0-9]{12,}", password)
    assert not set(password) & set("0O1lI5S2Z8B")  # no look-alikes
    letter = letter_of(response)
    assert login in letter and password in letter and "odra.localhost" in letter

    with in_schema(odra):
        account = User.objects.get(login=login)
        assert account.password.startswith("argon2")
        assert account.check_password(password) and account.must_change_password
        stored = json.dumps(list(AuditEvent.objects.values()), default=str)
        sessions = [s.get_decoded() for s in Session.objects.all()]
        granted = AuditEvent.objects.get(action="account.granted")
    assert (granted.actor_login, granted.target_login) == (staff.login, login)
    assert password not in stored and password not in json.dumps(sessions, default=str)
    assert password not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("fontTools")]

    # Never visible again: the person's page and a repeated grant do not show it.
    assert password not in client.get("/panel/people/O1/").content.decode()
    again = client.post("/panel/people/O1/grant/", follow=True)
    assert again.redirect_chain == [("/panel/people/O1/", 302)]
    assert '<li class="error"' in again.content.decode()
    assert password not in again.content.decode()


def test_regenerating_ends_every_session_and_token_at_once(staff_client, people, odra, in_schema):
    client, _staff = staff_client("operator")
    with in_schema(odra):
        issued = services.grant_access(person_source_id="O3")
    resident = logged_in(odra, issued.user, in_schema)
    with in_schema(odra):
        ApiToken.objects.create(
            user=issued.user, key_hash="a" * 64, expires_at=timezone.now() + timedelta(hours=1)
        )
        (session_key,) = LoginRecord.objects.filter(user=issued.user).values_list(
            "session_key", flat=True
        )
    response = client.post(f"/panel/accounts/{issued.user.pk}/regenerate/")
    new_password = response.context["password"]
    assert new_password != issued.password and new_password in letter_of(response)
    assert resident.get("/haslo/").status_code == 302  # the open session is gone
    with in_schema(odra):
        account = User.objects.get(pk=issued.user.pk)
        assert not account.check_password(issued.password) and account.check_password(new_password)
        assert not ApiToken.objects.filter(user=account).exists()
        assert not Session.objects.filter(session_key=session_key).exists()
        assert cache.get(f"django.contrib.sessions.cached_db{session_key}") is None


def test_block_and_unblock_with_a_reason(staff_client, people, odra, in_schema, odra_client):
    client, _staff = staff_client("operator")
    with in_schema(odra):
        issued = services.grant_access(person_source_id="O3")
    resident = logged_in(odra, issued.user, in_schema)
    assert (
        client.post(f"/panel/accounts/{issued.user.pk}/block/", {"reason": "bad"}).status_code
        == 302
    )
    with in_schema(odra):
        assert User.objects.get(pk=issued.user.pk).blocked_at is None  # no valid reason, no block
    client.post(
        f"/panel/accounts/{issued.user.pk}/block/", {"reason": "owner_request", "note": "tel."}
    )
    with in_schema(odra):
        account = User.objects.get(pk=issued.user.pk)
        event = AuditEvent.objects.get(action="account.blocked")
    assert (account.block_reason, account.block_note) == ("owner_request", "tel.")
    assert event.details == {"reason": "owner_request"}
    assert resident.get("/haslo/").status_code == 302
    refused = odra_client.post("/login/", {"username": account.login, "password": issued.password})
    assert refused.status_code == 200 and "_auth_user_id" not in odra_client.session

    client.post(f"/panel/accounts/{issued.user.pk}/unblock/")
    allowed = odra_client.post("/login/", {"username": account.login, "password": issued.password})
    assert allowed.status_code == 302


def test_erasing_needs_the_letters_date_and_reference_and_keeps_a_minimal_record(
    staff_client, people, odra, in_schema
):
    client, staff = staff_client("operator")
    with in_schema(odra):
        issued = services.grant_access(person_source_id="O1")
    url = f"/panel/accounts/{issued.user.pk}/erase/"
    tomorrow = timezone.localdate() + timedelta(days=1)
    for bad in (
        {"request_date": "2026-01-05", "request_reference": "", "confirm": "on"},
        {"request_date": tomorrow.isoformat(), "request_reference": "L.dz. 1", "confirm": "on"},
        {"request_date": "2026-01-05", "request_reference": "L.dz. 1"},
    ):
        assert client.post(url, bad).status_code == 200
    with in_schema(odra):
        assert User.objects.filter(pk=issued.user.pk).exists()

    response = client.post(
        url, {"request_date": "05.01.2026", "request_reference": "L.dz. 7/2026", "confirm": "on"}
    )
    assert response["Location"] == "/panel/people/O1/"
    with in_schema(odra):
        assert not User.objects.filter(person_source_id="O1").exists()
        record = ErasureRecord.objects.get()
        assert not AuditEvent.objects.filter(target_login=issued.user.login).exists()
    assert (record.request_date, record.request_reference) == (date(2026, 1, 5), "L.dz. 7/2026")
    assert record.erased_by == staff.login and record.person_source_id == "O1"

    page = client.get("/panel/people/O1/").content.decode()
    assert "L.dz. 7/2026" in page and "05.01.2026" in page
    refused = client.post("/panel/people/O1/grant/", follow=True)
    with in_schema(odra):
        assert not User.objects.filter(person_source_id="O1").exists()
    assert refused.status_code == 200
    granted = grant_in_panel(client, confirm_after_erasure="on")
    with in_schema(odra):
        event = AuditEvent.objects.get(
            action="account.granted", target_login=granted.context["account"].login
        )
    assert event.details == {"person": "O1", "after_erasure": True}


def test_staff_accounts_cannot_be_erased_through_the_residents_form(staff_client, odra):
    client, _admin = staff_client("admin")
    _other, viewer = staff_client("viewer")
    assert client.get(f"/panel/accounts/{viewer.pk}/erase/").status_code == 404
