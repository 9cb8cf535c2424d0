"""No personal data in a URL (ASVS 8.3.1, decision 0602): the API takes none in a
query string, its people search carries its words in the body only, and the staff
console's audit log filter keeps a login out of every address and link."""

import re
from urllib.parse import unquote

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from ebok.accounts import audit, services
from tests.support import data, otp

BACKEND = "ebok.accounts.backends.AccountBackend"
HOST = "odra.localhost"
# Query parameters that would carry a name, an address, a contact or a login.
PERSONAL = re.compile(
    r"^(q|query|search_?term|name|first_?name|last_?name|surname|full_?name|address|street"
    r"|e_?mail|phone|login|user(name)?|pesel|person)$",
    re.IGNORECASE,
)
LOGIN = "piotr.nowak"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def schema(db):
    response = Client(HTTP_HOST=HOST).get("/api/v1/schema/")
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_no_api_operation_takes_personal_data_in_its_query_string(schema):
    query_params = {
        (path, method, param["name"])
        for path, method, operation in _operations(schema)
        for param in operation.get("parameters", [])
        if param["in"] == "query"
    }
    assert ("/api/v1/staff/persons/search/", "post", "page") in query_params  # read at all
    assert {name for *_where, name in query_params if PERSONAL.match(name)} == set()


def test_the_people_search_carries_its_words_only_in_the_body(schema, odra):
    operation = schema["paths"]["/api/v1/staff/persons/search/"]["post"]
    assert [param["name"] for param in operation["parameters"]] == ["page"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema["components"]["schemas"][body.split("/")[-1]]["required"] == ["q"]
    assert "/api/v1/staff/persons/" not in schema["paths"]  # the GET form is gone

    with schema_context(odra.schema_name):
        data.household()
        token = services.issue_api_token(data.make_staff("viewer.url", role="viewer"))[0]
    api = Client(HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Bearer {token}")
    search = "/api/v1/staff/persons/search/"
    # Words in the URL are not read: without a body's words the search is refused.
    ignored = api.post(f"{search}?q=Kowalska", {}, content_type="application/json")
    assert ignored.status_code == 400
    assert list(ignored.json()["error"]["fields"]) == ["q"]
    found = api.post(search, {"q": "Kowalska"}, content_type="application/json").json()
    assert [person["id"] for person in found["results"]] == ["O1"]
    assert api.get("/api/v1/staff/persons/", {"q": "Kowalska"}).status_code == 404


def _signed_in(odra, user) -> Client:
    client = Client(HTTP_HOST=HOST)
    with schema_context(odra.schema_name):
        client.force_login(user, backend=BACKEND)
        code = otp.code_for(otp.enrol(user))
    otp.pass_second_factor(client, code)
    return client


@pytest.fixture
def log(odra):
    """A viewer's signed-in console, a colleague's, and 60 events about one login."""
    with schema_context(odra.schema_name):
        viewer = data.make_staff("viewer.log", role="viewer")
        colleague = data.make_staff("viewer.other", role="viewer")
        for number in range(60):
            audit.record("login.failed", target=LOGIN, attempt=number)
        audit.record("login.failed", target="someone.else")
    return _signed_in(odra, viewer), _signed_in(odra, colleague)


def _links(response) -> list[str]:
    return [unquote(href) for href in re.findall(r'href="([^"]*)"', response.content.decode())]


def test_the_audit_log_filter_is_posted_and_no_address_or_link_names_the_login(log):
    viewer, _colleague = log
    posted = viewer.post("/panel/audit/", {"login": LOGIN})
    assert posted.status_code == 302
    assert re.fullmatch(r"/panel/audit/\?search=[\w-]+", posted["Location"])

    first = viewer.get(posted["Location"])
    assert first.context["page"].paginator.count == 60
    assert first.context["form"]["login"].value() == LOGIN  # in the field, not the URL
    links = _links(first)
    for link in links:
        assert LOGIN not in link and "login=" not in link
    (next_page,) = [link for link in links if "page=2" in link]
    second = viewer.get("/panel/audit/" + next_page.replace("&amp;", "&"))
    assert len(second.context["page"].object_list) == 10
    (export,) = [link for link in links if "export.csv" in link]
    rows = viewer.get(export).content.decode("utf-8-sig").splitlines()[1:]
    assert len(rows) == 60 and all(LOGIN in row for row in rows)


def test_a_log_key_means_nothing_elsewhere_and_a_login_in_the_query_is_ignored(log):
    viewer, colleague = log
    location = viewer.post("/panel/audit/", {"login": LOGIN})["Location"]
    assert viewer.get(location).context["page"].paginator.count == 60
    for unfiltered in (colleague.get(location), viewer.get("/panel/audit/", {"login": LOGIN})):
        assert unfiltered.context["form"].data == {}
        assert unfiltered.context["page"].paginator.count > 60
    export = colleague.get(location.replace("/audit/", "/audit/export.csv"))
    assert "someone.else" in export.content.decode("utf-8-sig")
    # A people search's key is no filter of the log, nor the log's key a people search.
    people = viewer.post("/panel/people/", {"q": "Nowak"})["Location"].split("=")[1]
    assert viewer.get(f"/panel/audit/?search={people}").context["form"].data == {}
    log_key = location.split("=")[1]
    assert viewer.get(f"/panel/people/?search={log_key}").context["query"] == ""


def test_a_refused_or_empty_filter_keeps_nothing(log):
    viewer, _colleague = log
    refused = viewer.post("/panel/audit/", {"login": LOGIN, "date_from": "abc"})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert "panel_searches" not in viewer.session
    empty = viewer.post("/panel/audit/", {"login": "  ", "action": ""})
    assert empty["Location"] == "/panel/audit/"
    assert "panel_searches" not in viewer.session


def test_residents_cannot_filter_the_log(log, odra):
    client = Client(HTTP_HOST=HOST)
    with schema_context(odra.schema_name):
        client.force_login(data.make_resident(data.household()["nowak"]), backend=BACKEND)
    assert client.post("/panel/audit/", {"login": LOGIN}).status_code == 404
    assert "panel_searches" not in client.session
