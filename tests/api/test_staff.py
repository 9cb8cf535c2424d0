"""Staff endpoints: people search, the account lifecycle, syncs; roles."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from connectors.models import SyncRun
from ebok.accounts.models import User
from ebok.models import ApiToken, AuditEvent, ErasureRecord
from tenants.models import ConnectorSettings
from tests.api.conftest import error_of
from tests.support.data import RESIDENT_PASSWORD, make_person
from tests.support.queues import queued_syncs

ACTIONS = ["grant", "regenerate", "block", "unblock", "erase"]


@pytest.fixture
def admin(household, odra_api):
    return odra_api.as_(household["admin_token"])


@pytest.fixture
def operator(household, odra_api):
    return odra_api.as_(household["operator_token"])


@pytest.fixture
def viewer(household, odra_api):
    return odra_api.as_(household["viewer_token"])


def _login(api, login_name, password):
    return api.post("auth/token/", {"login": login_name, "password": password}, token="")


def search(api, q, page=None):
    return api.post("staff/persons/search/" + (f"?page={page}" if page else ""), {"q": q})


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("kowal", ["O1", "O2"]),
        ("Anna Kowalska", ["O1"]),
        ("K00002", ["O3"]),  # account number of Nowak's flat
        ("Kwiatowa 1/101", ["O1"]),  # the garage's address
        ("anna@example.pl", ["O1"]),
        ("nikogo", []),
    ],
)
def test_people_search(household, viewer, q, found):
    body = search(viewer, q).json()
    assert [person["id"] for person in body["results"]] == found
    assert body["count"] == len(found)


def test_search_shows_premises_and_account_state(household, viewer):
    (anna,) = search(viewer, "Anna").json()["results"]
    assert anna["last_name"] == "Kowalska"
    assert sorted(p["source_id"] for p in anna["premises"]) == ["G1", "L1"]
    assert anna["account"]["login"] == "res.o1"
    assert anna["account"]["state"] == "active"
    (jan,) = search(viewer, "Jan").json()["results"]
    assert jan["account"] is None
    # A former title is not one of the person's premises any more.
    (piotr,) = search(viewer, "Nowak").json()["results"]
    assert [p["source_id"] for p in piotr["premises"]] == ["L2"]


@pytest.mark.parametrize("body", [{}, {"q": ""}, {"q": "x" * 101}, {"q": 5}, {"q": ["Anna"]}])
def test_search_needs_a_query_of_sensible_length(household, viewer, body):
    response = viewer.post("staff/persons/search/", body)
    assert response.status_code == 400
    assert "q" in error_of(response)["fields"]


def test_search_pages_by_the_query_string_and_its_links_carry_no_words(
    household, viewer, odra, in_schema
):
    with in_schema(odra):
        for number in range(55):
            make_person(f"Z{number:02}", "Zielińska", "Ewa")
    first = search(viewer, "Zielińska").json()
    assert (first["count"], len(first["results"])) == (55, 50)
    assert first["next"].endswith("/api/v1/staff/persons/search/?page=2")
    second = search(viewer, "Zielińska", page=2).json()
    assert [person["id"] for person in second["results"]] == ["Z50", "Z51", "Z52", "Z53", "Z54"]
    assert second["previous"].endswith("/api/v1/staff/persons/search/")
    assert search(viewer, "Zielińska", page=3).status_code == 404
    assert search(viewer, "Zielińska", page="x").status_code == 400


def test_the_search_is_no_longer_a_get(household, viewer):
    assert viewer.get("staff/persons/", {"q": "Anna"}).status_code == 404
    response = viewer.get("staff/persons/search/", {"q": "Anna"})
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_an_older_token_still_searches_though_it_may_not_act(household, operator, odra, in_schema):
    """The search is a POST that only reads: the step-up rule for staff writes
    (decision 0760) does not apply to it."""
    with in_schema(odra):
        ApiToken.objects.filter(user=household["operator"]).update(
            created_at=timezone.now()
            - timedelta(seconds=settings.RECENT_AUTHENTICATION_SECONDS + 5)
        )
    assert [person["id"] for person in search(operator, "Anna").json()["results"]] == ["O1"]
    refused = operator.post("staff/persons/O1/block/", {"reason": "misuse"})
    assert error_of(refused)["code"] == "reauthentication_required"


def test_person_detail_and_unknown_person(household, viewer):
    assert viewer.get("staff/persons/O3/").json()["account"]["login"] == "res.o3"
    response = viewer.get("staff/persons/NOBODY/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_grant_returns_the_issued_password_once(household, operator, odra_api, odra, in_schema):
    response = operator.post("staff/persons/O2/grant/")
    assert response.status_code == 201
    body = response.json()
    assert body["person"] == "O2"
    assert body["login"].startswith("kowalski.")
    token = _login(odra_api, body["login"], body["password"])
    assert token.status_code == 201
    pending = odra_api.as_(token.json()["token"]).get("premises/")
    assert error_of(pending)["code"] == "password_change_required"
    with in_schema(odra):
        account = User.objects.get(login=body["login"])
        assert not account.check_password("") and account.password != body["password"]
    detail = operator.get("staff/persons/O2/").json()
    assert detail["account"]["state"] == "pending"
    assert body["password"] not in str(detail)

    again = operator.post("staff/persons/O2/grant/")
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"


def test_regenerate_ends_the_old_password_and_every_token(household, operator, odra_api):
    response = operator.post("staff/persons/O1/regenerate/")
    assert response.status_code == 200
    body = response.json()
    assert body["login"] == "res.o1"
    assert odra_api.as_(household["anna_token"]).get("premises/").status_code == 401
    assert _login(odra_api, "res.o1", RESIDENT_PASSWORD).status_code == 401
    assert _login(odra_api, "res.o1", body["password"]).status_code == 201


def test_block_and_unblock(household, operator, odra_api, odra, in_schema):
    response = operator.post("staff/persons/O1/block/", {"reason": "misuse", "note": "spam"})
    assert response.status_code == 200
    account = response.json()["account"]
    assert (account["state"], account["block_reason"], account["block_note"]) == (
        "blocked",
        "misuse",
        "spam",
    )
    with in_schema(odra):
        assert not ApiToken.objects.filter(user=household["anna"]).exists()
    assert odra_api.as_(household["anna_token"]).get("premises/").status_code == 401
    assert _login(odra_api, "res.o1", RESIDENT_PASSWORD).status_code == 401
    assert operator.post("staff/persons/O1/block/", {"reason": "misuse"}).status_code == 409

    unblocked = operator.post("staff/persons/O1/unblock/")
    assert unblocked.json()["account"]["state"] == "active"
    assert _login(odra_api, "res.o1", RESIDENT_PASSWORD).status_code == 201
    assert operator.post("staff/persons/O1/unblock/").status_code == 409


@pytest.mark.parametrize(
    "body", [{}, {"reason": "boredom"}, {"reason": 1}, {"reason": "misuse", "note": 5}]
)
def test_block_needs_a_known_reason(household, operator, body):
    response = operator.post("staff/persons/O1/block/", body)
    assert response.status_code == 400
    assert error_of(response)["fields"]


def test_erase_on_request(household, admin, odra_api, odra, in_schema):
    response = admin.post(
        "staff/persons/O1/erase/", {"reference": "W/12/2026", "request_date": "2026-11-20"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["person"], body["reference"], body["request_date"]) == (
        "O1",
        "W/12/2026",
        "2026-11-20",
    )
    with in_schema(odra):
        assert not User.objects.filter(login="res.o1").exists()
        assert ErasureRecord.objects.filter(person_source_id="O1").exists()
    assert odra_api.as_(household["anna_token"]).get("premises/").status_code == 401
    detail = admin.get("staff/persons/O1/").json()
    assert detail["account"] is None
    assert detail["erased_at"] is not None
    # A new account after an erasure only with an explicit confirmation.
    assert admin.post("staff/persons/O1/grant/").status_code == 409
    again = admin.post("staff/persons/O1/grant/", {"confirm_after_erasure": True})
    assert again.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"reference": "W/1"},
        {"reference": "", "request_date": "2026-11-20"},
        {"reference": "W/1", "request_date": "20.11.2026"},
        {"reference": "W/1", "request_date": 20261120},
    ],
)
def test_erase_needs_reference_and_date(household, admin, body):
    response = admin.post("staff/persons/O1/erase/", body)
    assert response.status_code == 400


def test_erase_with_a_future_request_date_is_refused(household, admin):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = admin.post("staff/persons/O1/erase/", {"reference": "W/1", "request_date": tomorrow})
    assert response.status_code == 409


@pytest.mark.parametrize("action", ["regenerate", "block", "unblock", "erase"])
def test_actions_on_a_person_without_account_are_404(household, admin, action):
    response = admin.post(
        f"staff/persons/O2/{action}/",
        {"reason": "misuse", "reference": "W/1", "request_date": "2026-11-20"},
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_on_an_unknown_person_are_404(household, admin, action):
    assert admin.post(f"staff/persons/NOBODY/{action}/").status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_viewers_may_only_read(household, viewer, action, odra, in_schema):
    response = viewer.post(
        f"staff/persons/O1/{action}/",
        {"reason": "misuse", "reference": "W/1", "request_date": "2026-11-20"},
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    with in_schema(odra):
        assert User.objects.get(login="res.o1").blocked_at is None
    assert viewer.post("staff/sync/").status_code == 403
    assert search(viewer, "Kowalska").status_code == 200  # a POST that only reads


def test_sync_runs_newest_first(household, viewer, odra, in_schema):
    with in_schema(odra):
        older = SyncRun.objects.create(connector="zsi-file", outcome="applied", package_number=1)
        newer = SyncRun.objects.create(
            connector="zsi-file",
            outcome="rejected",
            package_number=2,
            as_of=date(2026, 11, 24),
            errors=["SALDA.CSV:3: balance does not match the ledger"],
        )
    runs = viewer.get("staff/sync-runs/").json()
    assert [run["id"] for run in runs] == [newer.pk, older.pk]
    assert runs[0]["outcome"] == "rejected"
    assert runs[0]["as_of"] == "2026-11-24"
    assert runs[0]["errors"] == ["SALDA.CSV:3: balance does not match the ledger"]
    assert [run["id"] for run in viewer.get("staff/sync-runs/", {"limit": 1}).json()] == [newer.pk]
    assert viewer.get("staff/sync-runs/", {"limit": 0}).status_code == 400
    assert viewer.get(f"staff/sync-runs/{older.pk}/").json()["package_number"] == 1
    assert viewer.get(f"staff/sync-runs/{newer.pk + 1000}/").status_code == 404


def test_sync_now_without_a_connector_is_a_conflict(household, operator, odra, in_schema):
    before = queued_syncs()
    response = operator.post("staff/sync/")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert queued_syncs() == before
    with in_schema(odra):
        assert not AuditEvent.objects.filter(action="sync.started").exists()


def test_sync_now_queues_the_cooperatives_sync_and_audits_it(household, operator, odra, in_schema):
    ConnectorSettings.objects.create(
        cooperative=odra, connector="zsi-file", config={"inbox": "/nonexistent"}
    )
    queued_syncs(purge=True)
    response = operator.post("staff/sync/")
    assert response.status_code == 202
    assert response.json()["task_id"]
    assert queued_syncs(purge=True) == 1
    with in_schema(odra):
        event = AuditEvent.objects.get(action="sync.started")
        assert event.details == {"trigger": "api"}
        assert event.actor_login
