"""Finding a person from the accounting data and seeing their e-BOK account."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ebok.accounts import services
from ebok.panel import selectors
from tests.support.data import give_title, make_person, make_premises, make_resident


def found(query):
    return [
        card.person.source_id for card in selectors.people_cards(selectors.search_people(query))
    ]


def test_people_are_found_by_name_account_number_address_or_email(odra, in_schema, people):
    with in_schema(odra):
        assert found("Kowalska") == ["O1"]
        assert found("anna kowal") == ["O1"]  # every word must match, any field
        assert found("K00002") == ["O3"]  # account number of M2 (Nowak)
        assert found("K00101") == ["O1"]  # the garage
        assert found("Kwiatowa 1/2") == ["O3"]  # street, building / unit
        assert found("anna@example") == ["O1"]
        assert found("K00003") == ["O3"]  # an earlier title is still searchable...
        (card,) = selectors.people_cards(selectors.search_people("Nowak"))
        assert [p.source_id for p in card.premises] == ["L2"]  # ...but only current premises show
        assert found("") == [] and found("nikt-taki") == []


def test_a_page_of_people_costs_the_same_queries_whatever_its_size(odra, in_schema):
    def queries_for(query):
        with CaptureQueriesContext(connection) as captured:
            cards = selectors.people_cards(selectors.search_people(query)[:25])
            for card in cards:
                _ = [p.address for p in card.premises], card.account, card.erasures
        # django-tenants sets the search path on a cursor: not a query of ours.
        ours = [q for q in captured if not q["sql"].startswith("SET search_path")]
        return len(ours), len(cards)

    with in_schema(odra):
        for number in range(1, 26):
            person = make_person(f"P{number}", "Zielińska", f"Ewa{number}")
            premises = make_premises(f"M{number}", number=number)
            give_title(person, premises)
            if number % 2:
                make_resident(person)
        one = queries_for("Ewa25 Zielińska")
        many = queries_for("Zielińska")
    assert one[1] == 1 and many[1] == 25
    assert one[0] == many[0] == 4  # people, their titles+premises, accounts, erasures


def test_the_person_page_shows_premises_and_the_account_state(
    staff_client, people, odra, in_schema
):
    client, _staff = staff_client("viewer")
    assert "no e-BOK account" in _page(client, "O1", "en")
    with in_schema(odra):
        issued = services.grant_access(person_source_id="O1")
    page = _page(client, "O1", "en")
    assert issued.user.login in page and "must change password" in page
    assert "ul. Kwiatowa 1/1, 55-200 Oława" in page and "K00101" in page
    with in_schema(odra):
        services.block_account(user=issued.user, reason="misuse")
    assert "blocked" in _page(client, "O1", "en")
    with in_schema(odra):
        services.unblock_account(user=issued.user)
        issued.user.must_change_password = False
        issued.user.save()
    assert ">active<" in _page(client, "O1", "en")
    assert client.get("/panel/people/NOBODY/").status_code == 404


def _page(client, source_id, language):
    client.cookies["django_language"] = language
    return client.get(f"/panel/people/{source_id}/").content.decode()
