"""Tenant and neighbour isolation, enumerated rather than sampled.

Every URL pattern of the tenant and public URLconfs is found by walking the
resolvers; its path parameters are filled with ids of another cooperative's or
a neighbour's objects; each path is requested (GET and POST) by:

(a) anonymous visitors, on each host;
(b) a resident of cooperative A (session and API token), with B's and a neighbour's ids;
(c) staff and a resident of A carrying their cookies and tokens to B's host and the apex;
(d) staff of A on A's host with B's ids.

No answer is a 500, none carries another's distinctive data (names, addresses,
amounts, account numbers, document text), anonymous visitors get 200 only from
the public allow-list, and a resident never gets a 2xx for an id that is not
theirs. A URL added later without protection fails this test.

Also here: cache entries, stored files and Celery tasks stay in their cooperative.
"""

import contextlib
import io
import re
import time
from dataclasses import dataclass, field
from datetime import date

import pypdf
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from django_tenants.cache import make_key
from django_tenants.utils import schema_context

from connectors.models import SyncRun
from connectors.services import configure_connector
from connectors.tasks import enqueue_sync, sync_cooperative
from ebok.accounts import services
from ebok.models import Document, Premises
from tenants.services import onboard_cooperative
from tests.support import data, otp
from tests.support.processes import ROOT, celery_worker

BACKEND = "ebok.accounts.backends.AccountBackend"
A_CODE, B_CODE = "ISOA", "ISOB"
A_HOST, B_HOST, APEX = "isoa.localhost", "isob.localhost", "localhost"

# What an anonymous visitor may see with 200: the way in, and public descriptions.
PUBLIC_OK = {
    "healthz",
    "portal:login",
    "panel:login",
    "api:schema",
    "api:docs",
    "api:cooperative",  # the rent department's contact data, as on the login page
    "branding:theme",
    "branding:logo",
    "operator:login",
    "admin:login",
}

# Distinctive data: a neighbour's in A, and a resident's of B (whitespace is ignored).
NEIGHBOUR = [
    "Zdzisławska",
    "Sekretna Sąsiedzka",
    "K00701",
    data.nrb_for(701),
    "3141,59",
    "3141.59",
    "Pismo do sąsiadki",
    "sasiadka@example.pl",
    "DOC-SASIADKI-7f3",
]
OTHER_COOPERATIVE = [
    "Bronisława",
    "Obcej Spółdzielni",
    "K00909",
    data.nrb_for(909),
    "2718,28",
    "2718.28",
    "Pismo spółdzielni B",
    "obca@example.pl",
    "DOC-OBCEJ-9c1",
    "obca-paczka",
]
OWN = ["Samodzielna", "K00601", "1618,03", "1618.03"]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\xa0", " "))


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8", "replace")
    if content.startswith(b"%PDF") and response["Content-Type"] == "application/pdf":
        # A stored document may not parse: its raw bytes are already in the text.
        with contextlib.suppress(pypdf.errors.PdfReadError):
            text += "".join(
                page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages
            )
    return _squeezed(text)


# --- The URL patterns, as the resolvers know them -------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name, or the route itself for unnamed patterns
    template: str  # the path with {param} placeholders
    params: tuple[str, ...]


def _segment(pattern) -> tuple[str, list[str]]:
    if isinstance(pattern, RoutePattern):
        params = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern))
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern)), params
    assert isinstance(pattern, RegexPattern), pattern
    template, params = normalize(pattern.regex.pattern)[0]
    template = template.replace("%%", "%")
    for param in params:
        template = template.replace(f"%({param})s", "{" + param + "}")
    return template, list(params)


def routes(urlconf: str) -> list[Route]:
    found = []

    def walk(patterns, prefix="", params=(), namespace=""):
        for pattern in patterns:
            segment, names = _segment(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                if namespace and inner:
                    inner = f"{namespace}:{inner}"
                walk(pattern.url_patterns, prefix + segment, (*params, *names), inner or namespace)
            else:
                assert isinstance(pattern, URLPattern)
                template = prefix + segment
                name = template  # an unnamed pattern goes by its route
                if pattern.name:
                    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append(Route(name, template, (*params, *names)))

    walk(get_resolver(urlconf).url_patterns)
    return found


def test_the_walk_finds_every_area_of_both_urlconfs():
    tenant = {route.name for route in routes(settings.ROOT_URLCONF)}
    public = {route.name for route in routes(settings.PUBLIC_SCHEMA_URLCONF)}
    assert {"portal:ledger", "panel:person", "api:document-file", "branding:logo"} <= tenant
    assert {"operator:suspend", "admin:index", "healthz"} <= public
    assert tenant | public >= PUBLIC_OK  # no stale entries in the allow-list
    assert len(tenant) > 70 and len(public) > 30


# --- Two cooperatives of this module, committed ------------------------------------------------


def _far_ids() -> None:
    """B's rows get ids far from A's, so an id of B can only reach B's row."""
    for table in ("ebok_premises", "ebok_document", "accounts_user", "connectors_sync_run"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 900000)", [table])


def _build_a() -> dict:
    own = data.make_person("AS1", "Samodzielna", "Ada")
    neighbour = data.make_person(
        "AN1", "Zdzisławska", "Zofia", email="sasiadka@example.pl", phone="600 700 701"
    )
    own_flat = data.make_premises("AL1", number=601, street="ul. Własna 6")
    their_flat = data.make_premises("AL2", number=701, street="ul. Sekretna Sąsiedzka 7")
    data.give_title(own, own_flat)
    data.give_title(neighbour, their_flat)
    data.set_balance(own_flat, "1618.03")
    data.set_balance(their_flat, "3141.59")
    data.add_ledger(own_flat, "AZ1", date(2026, 1, 10), debit="1618.03")
    data.add_ledger(their_flat, "AZ2", date(2026, 1, 10), debit="3141.59", description="Sąsiad")
    data.add_charge(their_flat, "EKS", "Eksploatacja", "48.50", "64.78", "3141.59")
    data.add_parameter(their_flat, "OSOBY", "Liczba osób", "7", "os.")
    data.add_reading(their_flat, "ZW-701", date(2026, 6, 30), "3141.590")
    own_doc = data.add_document("AD1", premises=own_flat, title="Pismo własne")
    their_doc = data.add_document(
        "AD2",
        premises=their_flat,
        title="Pismo do sąsiadki",
        content=b"%PDF-1.4\n% DOC-SASIADKI-7f3\n",
    )
    data.mark_fresh()
    resident = data.make_resident(own, login="ada.samodzielna")
    neighbour_user = data.make_resident(neighbour, login="zofia.sasiadka")
    staff = data.make_staff("staff.a", role="admin")
    return {
        "resident": resident,
        "resident_token": services.issue_api_token(resident)[0],
        "staff": staff,
        "staff_token": services.issue_api_token(staff)[0],
        "neighbour_user": neighbour_user.pk,
        "neighbour_premises": their_flat.pk,
        "neighbour_doc": their_doc.pk,
        "own_premises": own_flat.pk,
        "own_doc": own_doc.pk,
        "own_doc_path": own_doc.stored_path,
    }


def _build_b() -> dict:
    _far_ids()
    person = data.make_person("BR1", "Obca", "Bronisława", email="obca@example.pl")
    flat = data.make_premises("BL1", number=909, street="ul. Obcej Spółdzielni 9")
    data.give_title(person, flat)
    data.set_balance(flat, "2718.28")
    data.add_ledger(flat, "BZ1", date(2026, 1, 10), debit="2718.28", description="Obca")
    data.add_charge(flat, "EKS", "Eksploatacja", "48.50", "56.05", "2718.28")
    doc = data.add_document(
        "BD1", premises=flat, title="Pismo spółdzielni B", content=b"%PDF-1.4\n% DOC-OBCEJ-9c1\n"
    )
    data.mark_fresh()
    resident = data.make_resident(person, login="bronislawa.obca")
    staff = data.make_staff("staff.b", role="admin")
    run = SyncRun.objects.create(connector="zsi-file", source="obca-paczka-B.zip")
    return {
        "resident": resident,
        "resident_token": services.issue_api_token(resident)[0],
        "staff": staff.pk,
        "resident_pk": resident.pk,
        "premises": flat.pk,
        "doc": doc.pk,
        "run": run.pk,
    }


_WORLD: dict = {}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    # Built once per test session: pytest-django runs the tests without a database
    # fixture last, so this module's fixture may be set up a second time.
    if not _WORLD:
        with django_db_blocker.unblock():
            a = onboard_cooperative(code=A_CODE, name="SM Izolacja A")
            b = onboard_cooperative(code=B_CODE, name="SM Izolacja B")
            with schema_context(a.schema_name):
                built_a = _build_a()
            with schema_context(b.schema_name):
                built_b = _build_b()
            connection.set_schema_to_public()
        _WORLD.update(a=a, b=b, A=built_a, B=built_b)
    return _WORLD


# --- Who asks ---------------------------------------------------------------------------------


@dataclass
class Persona:
    label: str
    host: str
    cookie: str = ""
    token: str = ""
    login_again: object = None
    forbidden: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, body: dict | None = None):
        client = Client(HTTP_HOST=self.host, raise_request_exception=False)
        if self.cookie:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.cookie
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        if method == "GET":
            return client.get(path, **headers)
        if path.startswith("/api/"):
            return client.post(path, body or {}, content_type="application/json", **headers)
        return client.post(path, body or {}, **headers)


def _session_of(cooperative, user, *, second_factor=False) -> str:
    client = Client(HTTP_HOST=f"{cooperative.schema_name}.localhost")
    with schema_context(cooperative.schema_name):
        client.force_login(user, backend=BACKEND)
        code = otp.code_for(otp.enrol(user)) if second_factor else None
    if code:
        otp.pass_second_factor(client, code)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _ids(world, source: str) -> dict[str, list[str]]:
    """Candidate values of each path parameter: ids that are NOT the asker's own."""
    a, b = world["A"], world["B"]
    if source == "B":
        return {
            "premises": [b["premises"]],
            "document": [b["doc"]],
            "account": [b["resident_pk"], b["staff"]],
            "run": [b["run"]],
            "person": ["BR1"],
        }
    return {  # a neighbour of the resident, in A
        "premises": [a["neighbour_premises"]],
        "document": [a["neighbour_doc"]],
        "account": [a["neighbour_user"]],
        "run": [world["B"]["run"]],
        "person": ["AN1"],
    }


# Which kind of object a parameter names, by parameter (and by route for a bare ``pk``).
PARAM_KINDS = {
    "premises_id": "premises",
    "document_id": "document",
    "source_id": "person",
    "person_id": "person",
}
PK_KINDS = [
    ("/premises/", "premises"),
    ("/documents/", "document"),
    ("/accounts/", "account"),
    ("/staff/", "account"),
    ("/sync", "run"),
]
OTHER_PARAMS = {  # the public URLconf: cooperatives by code, the admin by its own ids
    "code": [B_CODE],
    "app_label": ["tenants"],
    "object_id": ["1"],
    "content_type_id": ["1"],
    "pk": ["1"],
    "url": ["no-such-page/"],
}


def _values(route: Route, param: str, ids: dict) -> list:
    kind = PARAM_KINDS.get(param)
    if param == "pk":
        kind = next((k for marker, k in PK_KINDS if marker in route.template), None)
    if kind is not None:
        return ids[kind]
    assert param in OTHER_PARAMS, (
        f"{route.name}: unknown path parameter {param!r} — say in this test which "
        "objects it names, so that the test tries another's ids for it"
    )
    return OTHER_PARAMS[param]


def expand(route: Route, ids: dict) -> list[str]:
    paths = ["/" + route.template]
    for param in route.params:
        paths = [
            p.replace("{" + param + "}", str(v)) for p in paths for v in _values(route, param, ids)
        ]
    return paths


def _ordered(found: list[Route]) -> list[Route]:
    # Logging out last: the persona's session is meant to live through the rest.
    return sorted(found, key=lambda route: "logout" in route.name)


# Searches that take their words in a POST body get words naming others' people,
# each of which would show a marker were it reachable; the panel's searches answer
# with a redirect to their result page, which is followed.
OTHERS_WORDS = ["Bronisława", "Obca", "Zdzisławska", "obca@example.pl", "K00909"]
SEARCH_BODIES = {
    "api:persons-search": [{"q": words} for words in OTHERS_WORDS],
    "panel:people": [{"q": words} for words in OTHERS_WORDS],
    "panel:audit": [{"login": words} for words in OTHERS_WORDS],
}


def _check(persona, route: Route, path: str, method: str, *, own_ids_only: bool, body=None):
    response = persona.request(method, path, body)
    where = f"{persona.label} {method} {path} {body or ''} ({route.name})"
    assert response.status_code < 500, f"{where}: {response.status_code}"
    text = body_text(response)
    for marker in persona.forbidden:
        assert _squeezed(marker) not in text, f"{where}: shows {marker!r}"
    anonymous = persona.cookie == "" or persona.host != A_HOST
    if anonymous and 200 <= response.status_code < 300:
        assert route.name in PUBLIC_OK, f"{where}: {response.status_code} to an anonymous request"
    if own_ids_only and route.params and 200 <= response.status_code < 300:
        raise AssertionError(f"{where}: {response.status_code} for an id that is not theirs")
    if method == "POST" and "logout" in route.name and persona.login_again:
        persona.cookie = persona.login_again()
    if body and response.status_code in (302, 303) and response["Location"].startswith(path):
        _check(persona, route, response["Location"], "GET", own_ids_only=own_ids_only)
    return response


def _sweep(persona, urlconf, ids, *, own_ids_only=False) -> int:
    count = 0
    for route in _ordered(routes(urlconf)):
        for url in expand(route, ids):
            for method in ("GET", "POST"):
                _check(persona, route, url, method, own_ids_only=own_ids_only)
                count += 1
            for body in SEARCH_BODIES.get(route.name, []):
                _check(persona, route, url, "POST", own_ids_only=own_ids_only, body=body)
                count += 1
    return count


@pytest.fixture
def personas(world, db):
    a, b = world["a"], world["b"]
    everything = NEIGHBOUR + OTHER_COOPERATIVE + OWN
    resident = world["A"]["resident"]

    def resident_session():
        return _session_of(a, resident)

    staff_session = _session_of(a, world["A"]["staff"], second_factor=True)
    return {
        "anonymous": [Persona(f"anonymous@{h}", h, forbidden=everything) for h in (A_HOST, B_HOST)],
        "resident": Persona(
            "resident of A",
            A_HOST,
            cookie=resident_session(),
            token=world["A"]["resident_token"],
            login_again=resident_session,
            forbidden=NEIGHBOUR + OTHER_COOPERATIVE,
        ),
        "carried": [
            Persona(f"{who} of A@{host}", host, cookie=cookie, token=token, forbidden=everything)
            for host in (B_HOST, APEX)
            for who, cookie, token in (
                ("staff", staff_session, world["A"]["staff_token"]),
                ("resident", resident_session(), world["A"]["resident_token"]),
            )
        ],
        "staff": Persona(
            "staff of A",
            A_HOST,
            cookie=staff_session,
            token=world["A"]["staff_token"],
            forbidden=OTHER_COOPERATIVE,
        ),
        "b": b,
    }


def test_anonymous_visitors_get_only_the_public_pages(world, personas):
    for persona in personas["anonymous"]:
        assert _sweep(persona, settings.ROOT_URLCONF, _ids(world, "B")) > 150
    apex = Persona("anonymous@apex", APEX, forbidden=NEIGHBOUR + OTHER_COOPERATIVE + OWN)
    assert _sweep(apex, settings.PUBLIC_SCHEMA_URLCONF, _ids(world, "B")) > 60


@pytest.mark.parametrize("source", ["B", "neighbour"])
def test_a_resident_never_reaches_another_cooperatives_or_a_neighbours_data(
    world, personas, source
):
    resident = personas["resident"]
    assert _sweep(resident, settings.ROOT_URLCONF, _ids(world, source), own_ids_only=True) > 120


def test_cookies_and_tokens_of_a_are_nothing_on_bs_host_or_the_apex(world, personas):
    for persona in personas["carried"]:
        urlconf = settings.PUBLIC_SCHEMA_URLCONF if persona.host == APEX else settings.ROOT_URLCONF
        assert _sweep(persona, urlconf, _ids(world, "B")) > 60


def test_staff_of_a_never_see_bs_data_through_bs_ids(world, personas):
    assert _sweep(personas["staff"], settings.ROOT_URLCONF, _ids(world, "B")) > 150


def test_the_markers_are_there_for_those_who_may_see_them(world, personas):
    """The sweeps above would prove nothing if the markers were never shown."""
    staff = personas["staff"]
    assert _squeezed("Zdzisławska") in body_text(staff.request("GET", "/panel/people/AN1/"))
    found = staff.request("POST", "/api/v1/staff/persons/search/", {"q": "Zdzisławska"})
    assert _squeezed("sasiadka@example.pl") in body_text(found)
    searched = staff.request("POST", "/panel/people/", {"q": "Zdzisławska"})
    assert searched.status_code == 302
    assert _squeezed("Zdzisławska") in body_text(staff.request("GET", searched["Location"]))
    assert set(SEARCH_BODIES) <= {route.name for route in routes(settings.ROOT_URLCONF)}
    b_resident = Persona(
        "resident of B", B_HOST, cookie=_session_of(world["b"], world["B"]["resident"])
    )
    dashboard = body_text(b_resident.request("GET", "/"))
    assert _squeezed("Obcej Spółdzielni") in dashboard and "2718,28" in dashboard
    doc = b_resident.request("GET", f"/dokumenty/{world['B']['doc']}/pobierz/")
    assert doc.status_code == 200 and "DOC-OBCEJ-9c1" in body_text(doc)


# --- Cache, files, tasks -----------------------------------------------------------------------


def test_cache_entries_of_one_cooperative_are_unreadable_from_another(world):
    a, b = world["a"], world["b"]
    with schema_context(a.schema_name):
        cache.set("balance:AL1", "A-secret-1618", 60)
        key_in_a = make_key("balance:AL1", settings.CACHES["default"]["KEY_PREFIX"], 1)
        assert cache.get("balance:AL1") == "A-secret-1618"
    with schema_context(b.schema_name):
        assert cache.get("balance:AL1") is None
        assert make_key("balance:AL1", settings.CACHES["default"]["KEY_PREFIX"], 1) != key_in_a
        cache.set("balance:AL1", "B-value", 60)
    with schema_context(a.schema_name):
        assert cache.get("balance:AL1") == "A-secret-1618"
        cache.delete("balance:AL1")
    with schema_context(b.schema_name):
        cache.delete("balance:AL1")
    assert a.schema_name in key_in_a


def test_a_file_of_a_is_not_downloadable_from_bs_host(world, db):
    a, b = world["a"], world["b"]
    own_doc, path = world["A"]["own_doc"], world["A"]["own_doc_path"]
    with schema_context(a.schema_name):
        assert default_storage.exists(path)
        assert Document.objects.filter(pk=own_doc).exists()
    with schema_context(b.schema_name):
        assert not default_storage.exists(path)  # B's storage is another folder
        assert not Document.objects.filter(pk=own_doc).exists()
        assert not Premises.objects.filter(pk=world["A"]["own_premises"]).exists()
    b_resident = Persona("resident of B", B_HOST, cookie=_session_of(b, world["B"]["resident"]))
    b_resident.token = world["B"]["resident_token"]
    assert b_resident.request("GET", f"/dokumenty/{own_doc}/pobierz/").status_code == 404
    assert b_resident.request("GET", f"/api/v1/documents/{own_doc}/file").status_code == 404
    # The same cookie and token carried to A's host are nobody there.
    carried = Persona("resident of B@A", A_HOST, cookie=b_resident.cookie, token=b_resident.token)
    assert carried.request("GET", f"/dokumenty/{own_doc}/pobierz/").status_code == 302
    assert carried.request("GET", f"/api/v1/documents/{own_doc}/file").status_code == 401


def _runs(cooperative) -> list[SyncRun]:
    with schema_context(cooperative.schema_name):
        return list(SyncRun.objects.filter(trigger="isolation"))


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError("not within the time")


@pytest.mark.live
def test_a_celery_task_enqueued_for_a_runs_in_as_schema_only(world, django_db_blocker, tmp_path):
    a, b = world["a"], world["b"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with django_db_blocker.unblock():
        for cooperative in (a, b):
            configure_connector(
                cooperative, connector="zsi-file", config={"inbox": str(inbox)}, enabled=False
            )
        connection.set_schema_to_public()
        with celery_worker("isolation-worker"):
            enqueue_sync(a, trigger="isolation")
            # A message claiming A's schema in its body but naming B's in the header that
            # routes it: the task asserts the schema it runs in and refuses.
            sync_cooperative.apply_async(
                kwargs={"trigger": "isolation", "expected_schema": a.schema_name},
                queue=settings.CELERY_SYNC_QUEUE,
                headers={"_schema_name": b.schema_name},
            )
            log = ROOT / "var" / "test-logs" / "isolation-worker.log"
            _wait_for(lambda: _runs(a) and "running in isob, sent for isoa" in log.read_text())
        ran_in_a, ran_in_b = _runs(a), _runs(b)
        connection.set_schema_to_public()
    assert len(ran_in_a) == 1 and ran_in_a[0].outcome == "nothing"
    assert ran_in_b == []


# --- The sweep catches what it is meant to catch ----------------------------------------------


def _leaky_address(request, premises_id):
    """What a careless new view could look like: no login, no ownership check."""
    return HttpResponse(Premises.objects.get(pk=premises_id).street_address)


urlpatterns = [  # a URLconf of this test only, with the hole above
    path("healthz", lambda request: HttpResponse("ok"), name="healthz"),
    path("nowa-strona/", lambda request: HttpResponse("Witaj"), name="new_open_page"),
    path("nowy/<int:premises_id>/adres/", _leaky_address, name="new_page"),
]


def test_an_unprotected_new_url_fails_the_sweep(world, personas, settings):
    settings.ROOT_URLCONF = __name__
    with pytest.raises(AssertionError, match="to an anonymous request"):
        _sweep(personas["anonymous"][0], __name__, _ids(world, "neighbour"))
    with pytest.raises(AssertionError, match="shows 'Sekretna Sąsiedzka'"):
        _sweep(personas["resident"], __name__, _ids(world, "neighbour"), own_ids_only=True)
