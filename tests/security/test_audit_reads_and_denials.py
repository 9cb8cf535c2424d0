"""Staff reads of personal data and failed access-control decisions land in the
audit log (one event each, never a personal value); stdout logs are one JSON
object per line; the audit tables refuse UPDATE and DELETE but through their
documented purposes (decision 0740)."""

import io
import json
import logging
import uuid
from datetime import date

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from ebok.accounts import audit, denials
from ebok.models import AuditEvent
from tenants.models import OperatorAuditEvent
from tests.api.conftest import Api, token_for
from tests.panel.conftest import logged_in
from tests.support import data

HOST = "odra.localhost"


@pytest.fixture(autouse=True)
def _fresh_minute(monkeypatch):
    """Denials are counted per minute in Redis, beyond a test: each test its own minute."""
    minute = uuid.uuid4().int % 10**12
    monkeypatch.setattr(denials, "_minute", lambda: minute)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def home(odra, in_schema):
    """ODRA: the household of the builders, a document of each flat, a ready
    resident (Nowak), staff of every role and their API tokens."""
    with in_schema(odra):
        h = data.household()
        h["doc_m1"] = data.add_document("DA1", premises=h["m1"], title="Zawiadomienie M1")
        h["doc_m2"] = data.add_document("DA2", premises=h["m2"], title="Zawiadomienie M2")
        h["anna"] = data.make_resident(h["kowalska"], login="anna.k")
        h["piotr"] = data.make_resident(h["nowak"], login="piotr.n")
        for role in ("viewer", "operator", "admin"):
            h[role] = data.make_staff(f"{role}.audyt", role=role)
        for name in ("piotr", "viewer", "operator"):
            h[f"{name}_token"] = token_for(h[name])
    # Everything a read shows of these people, none of which may reach the log.
    h["personal"] = [
        "Kowalska",
        "Kowalski",
        "Nowak",
        "Anna",
        "Piotr",
        "anna@example.pl",
        "Kwiatowa",
        "K00001",
        "K00002",
        data.nrb_for(1),
    ]
    return h


def events(cooperative, action, **details):
    """The cooperative's events of ``action`` whose details hold ``details``, oldest first."""
    with schema_context(cooperative.schema_name):
        found = list(AuditEvent.objects.filter(action=action).order_by("id"))
    return [e for e in found if all(e.details.get(k) == v for k, v in details.items())]


def client_of(odra, in_schema, user, address) -> Client:
    client = logged_in(odra, user, in_schema)
    client.defaults["REMOTE_ADDR"] = address
    return client


def api(token, address) -> Api:
    calls = Api(HOST, token)
    calls.client.defaults["REMOTE_ADDR"] = address
    return calls


def assert_no_personal_value(event, home):
    text = json.dumps(model_to_dict(event), default=str)
    for value in home["personal"]:
        assert value not in text, value


# --- Reads of personal data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path", "view", "target", "details"),
    [
        ("viewer", "/panel/people/O3/", "panel.person", "piotr.n", {"person": "O3"}),
        ("admin", "/panel/staff/{viewer_pk}/", "panel.staff_member", "viewer.audyt", {}),
        (
            "viewer",
            "/panel/audit/export.csv?search={audit_key}",
            "panel.audit_export",
            "piotr.n",
            {"filters": ["login"]},
        ),
    ],
    ids=["person-card", "staff-account", "audit-export"],
)
def test_each_staff_read_in_the_panel_is_one_event_without_personal_data(
    home, odra, in_schema, who, path, view, target, details
):
    client = client_of(odra, in_schema, home[who], "10.1.0.1")
    # The log's filter is POSTed and kept under a key: the login is not in the URL.
    kept = client.post("/panel/audit/", {"login": "piotr.n"})["Location"].split("=")[1]
    response = client.get(path.format(viewer_pk=home["viewer"].pk, audit_key=kept))
    assert response.status_code == 200
    [event] = events(odra, audit.READ, view=view)
    assert (event.actor_login, event.target_login) == (home[who].login, target)
    assert event.ip_address == "10.1.0.1"
    assert {key: event.details[key] for key in details} == details
    assert_no_personal_value(event, home)


@pytest.mark.parametrize(
    ("path", "body", "view", "target", "details"),
    [
        ("staff/persons/O1/", None, "api.person", "anna.k", {"person": "O1"}),
        ("staff/persons/search/", {"q": "Kowal"}, "api.persons", "", {"results": 2}),
    ],
    ids=["person", "search"],
)
def test_each_staff_read_in_the_api_is_one_event_without_personal_data(
    home, odra, path, body, view, target, details
):
    calls = api(home["viewer_token"], "10.1.0.2")
    response = calls.get(path) if body is None else calls.post(path, body)
    assert response.status_code == 200
    [event] = events(odra, audit.READ, view=view)
    assert (event.actor_login, event.target_login) == ("viewer.audyt", target)
    assert {key: event.details[key] for key in details} == details
    assert_no_personal_value(event, home)


def test_a_page_of_search_results_in_the_panel_is_one_event_without_the_words(
    home, odra, in_schema
):
    client = client_of(odra, in_schema, home["viewer"], "10.1.0.5")
    page = client.post("/panel/people/", {"q": "Kowal"}, follow=True)
    assert page.status_code == 200 and len(page.context["cards"]) == 2
    [event] = events(odra, audit.READ, view="panel.people")
    assert (event.actor_login, event.details["results"]) == ("viewer.audyt", 2)
    assert "Kowal" not in json.dumps(model_to_dict(event), default=str)


def test_a_persons_card_without_an_account_names_the_person_by_id_only(home, odra, in_schema):
    client = client_of(odra, in_schema, home["viewer"], "10.1.0.3")
    assert client.get("/panel/people/O2/").status_code == 200  # Kowalski has no account
    [event] = events(odra, audit.READ, view="panel.person")
    assert (event.target_login, event.details["person"]) == ("", "O2")
    assert_no_personal_value(event, home)


def test_a_residents_own_reads_are_not_staff_reads(home, odra, in_schema):
    client = client_of(odra, in_schema, home["piotr"], "10.1.0.4")
    assert client.get(f"/lokale/{home['m2'].pk}/rozrachunki/").status_code == 200
    assert client.get(f"/dokumenty/{home['doc_m2'].pk}/pobierz/").status_code == 200
    assert events(odra, audit.READ) == []


# --- Failed access-control decisions ---------------------------------------------------------


def test_a_role_check_failing_in_the_panel_is_a_forbidden_denial(home, odra, in_schema):
    client = client_of(odra, in_schema, home["viewer"], "10.2.0.1")
    assert client.get("/panel/staff/").status_code == 403
    [event] = events(odra, denials.DENIED)
    assert event.actor_login == "viewer.audyt"
    assert event.ip_address == "10.2.0.1"
    assert event.details == {
        "kind": "forbidden",
        "method": "GET",
        "path": "/panel/staff/",
        "seen": 1,
    }


def test_a_csrf_failure_is_a_forbidden_denial(home, odra):
    client = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.2.0.9", enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "anna.k", "password": "x"}).status_code == 403
    [event] = events(odra, denials.DENIED, kind="forbidden")
    assert (event.actor_login, event.details["path"]) == ("", "/login/")


def test_a_drf_permission_denied_is_a_forbidden_denial(home, odra):
    response = api(home["viewer_token"], "10.2.0.2").post("staff/persons/O1/block/")
    assert response.status_code == 403
    [event] = events(odra, denials.DENIED, kind="forbidden")
    assert (event.actor_login, event.details["path"]) == (
        "viewer.audyt",
        "/api/v1/staff/persons/O1/block/",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/lokale/{m1}/rozrachunki/",
        "/dokumenty/{doc_m1}/pobierz/",
        "/api/v1/premises/{m1}/",
        "/api/v1/documents/{doc_m1}/file",
    ],
)
def test_a_neighbours_premises_or_document_is_a_not_yours_denial(home, odra, in_schema, path):
    client = client_of(odra, in_schema, home["piotr"], "10.2.0.3")
    path = path.format(m1=home["m1"].pk, doc_m1=home["doc_m1"].pk)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {home['piotr_token']}"}
    assert client.get(path, **headers).status_code == 404
    [event] = events(odra, denials.DENIED, kind="not_yours")
    assert (event.actor_login, event.details["path"]) == ("piotr.n", path)


def test_a_mistyped_address_is_no_denial(home, odra, in_schema):
    client = client_of(odra, in_schema, home["piotr"], "10.2.0.5")
    assert client.get("/lokale/").status_code == 404
    assert client.get("/api/v1/no/such/endpoint").status_code == 404
    assert events(odra, denials.DENIED) == []


def test_a_resident_in_the_staff_console_is_a_wrong_area_denial(home, odra, in_schema):
    client = client_of(odra, in_schema, home["piotr"], "10.2.0.6")
    assert client.get("/panel/people/O1/").status_code == 404
    [event] = events(odra, denials.DENIED, kind="wrong_area")
    assert (event.actor_login, event.details["path"]) == ("piotr.n", "/panel/people/O1/")


def test_a_token_of_another_cooperative_is_a_refused_token(home, odra, warta, in_schema):
    with in_schema(warta):
        foreign = token_for(data.make_staff("viewer.warta", role="viewer"))
    response = api(foreign, "10.2.0.7").get("staff/persons/O1/")
    assert response.status_code == 401
    [event] = events(odra, denials.DENIED, kind="token_refused")
    assert (event.actor_login, event.ip_address) == ("", "10.2.0.7")


def test_a_missing_first_login_step_is_no_denial(home, odra, in_schema):
    with in_schema(odra):
        fresh = data.make_resident(data.make_person("F1", "Nowa"), ready=False)
        token = token_for(fresh)
    assert api(token, "10.2.0.8").get("premises/").status_code == 403
    assert events(odra, denials.DENIED) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/logout/"),  # a view that takes POST only
        ("put", "/panel/people/"),  # a method no address takes
        ("options", "/konto/"),
        ("delete", "/api/v1/premises/"),  # the API's views answer for themselves
        ("trace", "/api/v1/me/"),
    ],
)
def test_a_method_not_allowed_is_logged(home, odra, in_schema, method, path):
    client = client_of(odra, in_schema, home["piotr"], "10.3.0.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {home['piotr_token']}"}
    response = getattr(client, method)(path, **headers)
    assert response.status_code == 405
    [event] = events(odra, denials.DENIED, kind="method")
    assert event.details["method"] == method.upper()
    assert (event.details["path"], event.actor_login) == (path, "piotr.n")


def test_an_anonymous_405_on_the_operators_console_goes_to_the_operators_log(db):
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR="10.3.0.2")
    assert client.put("/audit/").status_code == 405
    event = OperatorAuditEvent.objects.filter(action=denials.DENIED).latest("id")
    assert (event.details["kind"], event.details["path"]) == ("method", "/audit/")
    assert event.ip_address == "10.3.0.2"


def test_a_scanner_is_counted_not_flooding_the_table(home, odra, in_schema):
    client = client_of(odra, in_schema, home["piotr"], "10.4.0.1")
    for number in range(25):
        assert client.get(f"/panel/people/P{number}/").status_code == 404
    logged = events(odra, denials.DENIED, kind="wrong_area")
    assert [e.details["seen"] for e in logged] == [1, 10]
    assert logged[1].details["path"] == "/panel/people/P9/"


def test_denials_beyond_the_minutes_cap_stay_out_of_the_table(home, odra, in_schema, settings):
    settings.DENIALS_AUDITED_PER_MINUTE = 2
    for number in range(4):  # four addresses: each one's first denial would be an event
        client = client_of(odra, in_schema, home["piotr"], f"10.4.1.{number + 1}")
        assert client.get("/panel/people/").status_code == 404
    assert len(events(odra, denials.DENIED)) == 2


def test_denials_are_labelled_in_the_panels_audit_log(home, odra, in_schema):
    resident = client_of(odra, in_schema, home["piotr"], "10.5.0.1")
    assert resident.get("/panel/people/").status_code == 404
    viewer = client_of(odra, in_schema, home["viewer"], "10.5.0.2")
    page = viewer.post(
        "/panel/audit/", {"action": "access.denied"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Access refused: an account of another kind" in page.content.decode()


# --- Logs ------------------------------------------------------------------------------------


def json_log_of(logger_name: str):
    spec = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(spec.pop("()"))(**spec)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logging.getLogger(logger_name).addHandler(handler)
    return stream, handler


def test_a_json_log_line_stays_one_line_whatever_the_message_holds():
    stream, handler = json_log_of("ebok.test")
    forged = 'ok\n{"level": "INFO", "message": "admin logged in"}\r\x1b[2K\x00\u2028end'
    try:
        logging.getLogger("ebok.test").warning("value: %s", forged)
        try:
            raise ValueError(forged)
        except ValueError:
            logging.getLogger("ebok.test").exception("failed")
    finally:
        logging.getLogger("ebok.test").removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == f"value: {forged}"
    assert first["level"] == "WARNING" and first["logger"] == "ebok.test"
    assert forged in second["exc_info"]


def test_a_denial_with_control_characters_in_its_path_is_one_json_line(home, odra):
    stream, handler = json_log_of("ebok.access")
    try:
        client = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.6.0.1")
        response = client.generic("PATCH", "/lokale/1%0A%1B%5B2Jfake")
    finally:
        logging.getLogger("ebok.access").removeHandler(handler)
    assert response.status_code == 405
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert (entry["kind"], entry["path"]) == ("method", "/lokale/1\n\x1b[2Jfake")


# --- The audit tables are append-only --------------------------------------------------------


def refused(sql, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


@pytest.mark.parametrize("table", ["odra.ebok_audit_event", "public.tenants_operatorauditevent"])
def test_plain_sql_cannot_change_or_remove_audit_events(odra, in_schema, table):
    with in_schema(odra):
        audit.record("login.failed", target="someone")
    from tenants import audit as operator_audit

    operator_audit.record("cooperative.onboarded", actor="op", cooperative="ODRA")
    assert refused(f"UPDATE {table} SET actor_login = 'nobody'")  # noqa: S608
    assert refused(f"DELETE FROM {table}")  # noqa: S608
    assert refused(f"TRUNCATE {table}")


def test_the_orm_cannot_change_an_event_either(odra, in_schema):
    with in_schema(odra):
        event = audit.record("login.failed", target="someone")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="login.succeeded")


def test_erasure_may_only_replace_logins_and_addresses(odra, in_schema):
    with in_schema(odra):
        event = audit.record("login.failed", target="someone", reason="password")
        with audit.rewriting(audit.ERASURE):
            AuditEvent.objects.filter(pk=event.pk).update(
                target_login="[erased #1]", ip_address=None
            )
        for change in ({"action": "logout"}, {"details": {}}):
            with pytest.raises(DatabaseError), audit.rewriting(audit.ERASURE):
                AuditEvent.objects.filter(pk=event.pk).update(**change)
        with pytest.raises(DatabaseError), audit.rewriting(audit.ERASURE):
            AuditEvent.objects.filter(pk=event.pk).delete()
        event.refresh_from_db()
        assert (event.target_login, event.action) == ("[erased #1]", "login.failed")
        # The permission ends with the block.
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(target_login="again")


def test_retention_may_only_delete(odra, in_schema):
    with in_schema(odra):
        event = audit.record("login.failed", target="someone")
        with pytest.raises(DatabaseError), audit.rewriting(audit.RETENTION):
            AuditEvent.objects.filter(pk=event.pk).update(target_login="x")
        with audit.rewriting(audit.RETENTION):
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert not AuditEvent.objects.filter(pk=event.pk).exists()


def test_no_other_purpose_is_sanctioned():
    with pytest.raises(ValueError, match="No sanctioned rewrite"):
        audit.rewriting("cleanup").__enter__()


def test_the_erasure_service_pseudonymises_through_the_sanctioned_path(home, odra, in_schema):
    from ebok.accounts import services

    with in_schema(odra):
        audit.record("login.succeeded", actor="anna.k", target="anna.k")
        record = services.erase_account(
            user=home["anna"],
            request_reference="L/1/2026",
            request_date=date(2026, 1, 2),
            actor=home["admin"],
        )
        assert not AuditEvent.objects.filter(target_login="anna.k").exists()
        assert AuditEvent.objects.filter(target_login=f"[erased #{record.pk}]").exists()
