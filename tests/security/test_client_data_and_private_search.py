"""Logouts tell the browser to wipe what it keeps of the site (ASVS 8.2.3), and the
staff people search never carries a name or an address in a URL (ASVS 8.3.1);
docs/decisions/0720-…."""

import re
from urllib.parse import unquote

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from ebok.accounts import services
from ebok.accounts.models import User
from ebok.panel.searches import SEARCHES_KEPT
from tests.support import data, otp

BACKEND = "ebok.accounts.backends.AccountBackend"
WIPE = '"cache", "storage"'
SURNAME = "Zdzisławska"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _signed_in(user, host: str, schema: str) -> Client:
    client = Client(HTTP_HOST=host)
    with schema_context(schema):
        client.force_login(user, backend=BACKEND)
        code = otp.code_for(otp.enrol(user)) if user.kind != User.Kind.RESIDENT else None
    if code is not None:
        otp.pass_second_factor(client, code, "/otp/" if host == "localhost" else "/panel/otp/")
    return client


@pytest.fixture
def staff(odra):
    with schema_context(odra.schema_name):
        user = data.make_staff("viewer.search", role="viewer")
    return _signed_in(user, "odra.localhost", odra.schema_name)


def test_portal_logout_wipes_site_data_and_says_so_after_the_wipe(odra):
    with schema_context(odra.schema_name):
        people = data.household()
        resident = data.make_resident(people["kowalska"])
    client = _signed_in(resident, "odra.localhost", odra.schema_name)
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Clear-Site-Data"] == WIPE
    assert response["Location"] == "/wylogowano/"
    landing = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "Clear-Site-Data" not in landing and landing["Location"] == "/login/"
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "You have logged out." in page.content.decode()
    assert client.get("/").status_code == 302  # the session is over on the server too


def test_panel_logout_wipes_site_data(staff):
    response = staff.post("/panel/logout/")
    assert response.status_code == 302 and response["Clear-Site-Data"] == WIPE
    assert staff.get("/panel/people/")["Location"].startswith("/panel/login/")


def test_operator_console_logout_wipes_site_data(db):
    operator = User.objects.create_superuser("operator.wipe", "Operator-platformy-2026")
    console = _signed_in(operator, "localhost", "public")
    assert console.get("/").status_code == 200
    response = console.post("/logout/")
    assert response.status_code == 302 and response["Clear-Site-Data"] == WIPE
    assert console.get("/")["Location"].startswith("/login/")


def test_revoking_an_api_token_wipes_storage_and_cache_but_not_the_cookies(odra):
    with schema_context(odra.schema_name):
        resident = data.make_resident(data.household()["nowak"])
        token = services.issue_api_token(resident)[0]
    api = Client(HTTP_HOST="odra.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.delete("/api/v1/auth/token/")
    assert response.status_code == 204
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert api.get("/api/v1/me/").status_code == 401


def test_a_logout_refused_by_method_wipes_nothing(staff):
    response = staff.get("/panel/logout/")
    assert response.status_code == 405 and "Clear-Site-Data" not in response
    assert staff.get("/panel/people/").status_code == 200


def _links(response) -> list[str]:
    return [unquote(href) for href in re.findall(r'href="([^"]*)"', response.content.decode())]


def test_people_search_is_posted_and_its_pages_carry_no_name(staff, odra):
    with schema_context(odra.schema_name):
        for number in range(30):
            data.make_person(f"Z{number:02}", SURNAME, "Anna", email=f"a{number}@example.pl")
    posted = staff.post("/panel/people/", {"q": SURNAME})
    assert posted.status_code == 302
    location = posted["Location"]
    assert re.fullmatch(r"/panel/people/\?search=[\w-]+", location)

    first = staff.get(location)
    assert first.context["page"].paginator.count == 30
    assert [card.person.source_id for card in first.context["cards"]][:2] == ["Z00", "Z01"]
    assert first.context["form"]["q"].value() == SURNAME  # shown in the field, not the URL
    for link in _links(first):
        assert SURNAME not in link and "q=" not in link and "@example.pl" not in link
    (next_page,) = [link for link in _links(first) if "page=2" in link]
    second = staff.get("/panel/people/" + next_page.replace("&amp;", "&"))
    assert len(second.context["cards"]) == 5
    assert second.context["page"].number == 2


def test_a_search_key_means_nothing_to_another_session_and_names_in_the_query_are_ignored(
    staff, odra
):
    with schema_context(odra.schema_name):
        data.household()
        colleague = data.make_staff("viewer.other", role="viewer")
    location = staff.post("/panel/people/", {"q": "Kowalska"})["Location"]
    assert staff.get(location).context["page"].paginator.count == 1

    other = _signed_in(colleague, "odra.localhost", odra.schema_name)
    assert other.get(location).context["query"] == ""
    assert other.get("/panel/people/", {"q": "Kowalska"}).context["query"] == ""


def test_a_refused_search_is_a_form_error_and_remembers_nothing(staff):
    response = staff.post("/panel/people/", {"q": "x" * 101})
    assert response.status_code == 200 and response.context["form"].errors
    assert "panel_searches" not in staff.session


def test_the_session_keeps_only_the_latest_searches(staff):
    keys = [
        staff.post("/panel/people/", {"q": f"Nazwisko {n}"})["Location"].split("=")[1]
        for n in range(SEARCHES_KEPT + 2)
    ]
    kept = staff.session["panel_searches"]
    assert list(kept) == keys[2:]
    assert staff.get(f"/panel/people/?search={keys[0]}").context["query"] == ""
    assert staff.get(f"/panel/people/?search={keys[-1]}").context["query"] == "Nazwisko 21"
