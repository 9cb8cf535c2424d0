"""The API against its own live OpenAPI schema: a real gunicorn, committed data in
a cooperative of this module, schemathesis generating valid and invalid requests.

What is fuzzed, and how:
- every operation of the schema, residents' ones with a ready resident's token and
  staff ones with an operator's token, a bounded number of examples each;
- ids in paths are sometimes swapped for real ones (the resident's premises and
  documents, throwaway people for the staff actions), so requests reach real data
  rather than only 404;
- the staff actions (grant, regenerate, block, unblock, erase) are fuzzed for real
  against throwaway people (T1…T4) that no other test of the module looks at;
- DELETE /auth/token/ revokes a token obtained for that one request, never the
  fuzzer's own (a check below proves those survived the whole run);
- left out: POST /staff/sync/ (no input to vary; it is called once for real
  below, with its queued task removed again).
"""

from datetime import date

import httpx
import pytest
import schemathesis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_otp.oath import totp
from django_tenants.utils import schema_context
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ebok.accounts.models import User
from ebok.keys.models import EncryptedTOTPDevice as TOTPDevice
from ebok.models import Document, Person
from tenants.models import ConnectorSettings
from tenants.services import onboard_cooperative
from tests.support import data
from tests.support.browser import chromium
from tests.support.processes import web_server

pytestmark = [pytest.mark.live, pytest.mark.django_db]

CODE = "APILIVE"
HOST = "apilive.localhost"
THROWAWAY = ["T1", "T2", "T3", "T4"]
# Requests whose only acceptable values are secrets or state the schema cannot
# know (the current password, the current rules version): a schema-valid value is
# still, rightly, a 400 there.
SEMANTIC_400 = {("POST", "/api/v1/me/password/"), ("POST", "/api/v1/me/rules/")}
MAX_EXAMPLES = 25
GUNICORN_REQUEST_LINE_LIMIT = 4094


def _build_data():
    h = data.household()
    for number, premises in enumerate((h["m1"], h["g1"]), start=1):
        data.add_ledger(premises, f"Z{number}", date(2026, 1, number), debit="10.00")
        data.add_charge(premises, "EKSPL", "Eksploatacja", "48.50", "3.20", "155.20")
        data.add_parameter(premises, "OSOBY", "Liczba osób", "2", "os.")
        data.add_reading(premises, "ZW-1", date(2026, 6, 30), "12.345")
        data.add_document(f"D{number}", premises=premises, content=b"%PDF-1.4 " + bytes([number]))
    data.add_document("D9", kind="UCH", title="Uchwała", content=b"%PDF-1.4 all")
    data.mark_fresh()
    data.make_resident(h["kowalska"], login="live.resident")
    operator = data.make_staff("live.operator", role="operator")
    # Staff prove a second factor at login: an authenticator whose codes the test computes.
    TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    for number, source_id in enumerate(THROWAWAY, start=50):
        person = data.make_person(source_id, "Tymczasowy", f"Osoba {number}")
        data.give_title(person, data.make_premises(f"TL{number}", number=number))
    # Some with accounts, one blocked: every action has something to act on.
    for source_id in THROWAWAY[:3]:
        data.make_resident(Person.objects.get(source_id=source_id))
    User.objects.filter(person_source_id=THROWAWAY[2]).update(
        blocked_at=timezone.now(), block_reason="misuse"
    )
    return {
        "premises": [h["m1"].pk, h["g1"].pk],
        "documents": list(Document.objects.values_list("pk", flat=True)),
    }


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker):
    """The server, the committed data's ids and one token per kind of account."""
    with django_db_blocker.unblock():
        cooperative = onboard_cooperative(code=CODE, name="SM Live")
        # A connector to start by hand; off the schedule, so no beat picks it up.
        ConnectorSettings.objects.create(
            cooperative=cooperative,
            connector="zsi-file",
            config={"inbox": "/nonexistent"},
            enabled=False,
        )
        with schema_context(cooperative.schema_name):
            ids = _build_data()
            code = _current_code("live.operator")
        connection.set_schema_to_public()
    rates = {"API_RATE_IP": "100000/min", "API_RATE_TOKEN": "100000/min"}
    with web_server(API_RATE_LOGIN="100000/min", **rates) as port:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Host": HOST}) as client:
            tokens = {
                "resident": _obtain_token(client, "live.resident"),
                "staff": _obtain_token(client, "live.operator", otp=code),
            }
            yield {"base": base, "client": client, "tokens": tokens, **ids}
    # Its data (the fuzzer's refused requests among them) must not reach later tests.
    with django_db_blocker.unblock():
        cooperative.delete(force_drop=True)
        connection.set_schema_to_public()


@pytest.fixture(scope="module")
def api_schema(live):
    schema = schemathesis.openapi.from_url(f"{live['base']}/api/v1/schema/", headers={"Host": HOST})
    schema.config.update(base_url=live["base"], headers={"Host": HOST})
    # NUL characters are refused (400) by every text field; they are checked in the
    # contract tests rather than spent on examples here.
    # The tokens are ours to send (one per kind of account); the fuzzer does not
    # make up Authorization headers, while its ignored_auth check still drops them.
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, allow_x00=False, with_security_parameters=False
    )
    return schema.exclude(method="POST", path="/api/v1/staff/sync/")


fuzzed = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _legacy_node_id(request):
    # schemathesis' pytest integration renames the test per operation through
    # ``node._nodeid``, which pytest 9 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _real_ids(case, live):
    """Swap some generated ids for real ones (only valid ones: invalid stay invalid)."""
    params = case.path_parameters or {}
    if isinstance(params.get("id"), int) and params["id"] % 2 == 0:
        pool = live["documents"] if case.path.startswith("/api/v1/documents/") else live["premises"]
        params["id"] = pool[params["id"] // 2 % len(pool)]
    person = params.get("person_id")
    if isinstance(person, str) and person and len(person) % 2 == 0:
        params["person_id"] = THROWAWAY[len(person) // 2 % len(THROWAWAY)]


def _token_for(case, live) -> str:
    if (case.method, case.path) == ("DELETE", "/api/v1/auth/token/"):
        # Revoking: a token of its own, never one the other operations use.
        return _obtain_token(live["client"], "live.resident")
    return live["tokens"]["staff" if case.path.startswith("/api/v1/staff/") else "resident"]


def _obtain_token(client, login: str, otp: str | None = None) -> str:
    body = {"login": login, "password": data.RESIDENT_PASSWORD}
    response = client.post("/api/v1/auth/token/", json={**body, **({"otp": otp} if otp else {})})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def _current_code(login: str) -> str:
    device = TOTPDevice.objects.get(user__login=login)
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"


@fuzzed.parametrize()
@hypothesis_settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, live):
    _real_ids(case, live)
    excluded = [positive_data_acceptance] if (case.method, case.path) in SEMANTIC_400 else []
    headers = {"Host": HOST, "Authorization": f"Bearer {_token_for(case, live)}"}
    response = case.call(headers=headers)
    if response.status_code == 414:
        # gunicorn refuses a request line over its limit before the application sees it.
        assert len(response.request.url) > GUNICORN_REQUEST_LINE_LIMIT
        return
    case.validate_response(response, headers=headers, excluded_checks=excluded)


def test_the_fuzzers_tokens_survived(live):
    # Had a fuzzed request ended them, most of the run would have tested only 401s.
    for kind, path in (("resident", "/api/v1/premises/"), ("staff", "/api/v1/staff/sync-runs/")):
        response = live["client"].get(
            path, headers={"Authorization": f"Bearer {live['tokens'][kind]}"}
        )
        assert response.status_code == 200, kind


def test_sync_now_queues_a_real_task(live):
    from ebok_platform.celery import app

    response = live["client"].post(
        "/api/v1/staff/sync/", headers={"Authorization": f"Bearer {live['tokens']['staff']}"}
    )
    assert response.status_code == 202
    assert response.json()["task_id"]
    # No worker consumes this queue here; leave no task behind for later tests.
    with app.connection_for_write() as conn:
        assert conn.default_channel.queue_purge(settings.CELERY_SYNC_QUEUE) >= 1


@pytest.mark.browser
def test_docs_page_works_in_a_browser_under_the_csp(live):
    port = live["base"].rsplit(":", 1)[1]
    problems = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"http://{HOST}:{port}/api/v1/docs/")
        page.wait_for_selector(".opblock-summary", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/premises/{id}/ledger/" in path for path in paths)
        assert len(paths) >= 24
    assert problems == []
