"""A resident sees their own premises, ledger rows and documents — nobody else's,
whatever URL they type (404, never 403: no hint that the object exists)."""

import pytest
from django.urls import reverse

from tests.portal.conftest import logged_in
from tests.support import data

PREMISES_VIEWS = ["ledger", "ledger_csv", "ledger_pdf", "charges", "parameters", "charts"]
ALL_PAGES = ["dashboard", "documents", "contact", "account", "password_change", "rules"]


def premises_urls(premises_id):
    return [reverse(f"portal:{name}", args=[premises_id]) for name in PREMISES_VIEWS]


def text_of(response) -> str:
    return response.content.decode()


def test_dashboard_shows_only_the_residents_current_premises(home, as_user):
    page = text_of(as_user(home["kowalska_user"]).get("/"))
    assert "K00001" in page and "K00101" in page  # her flat and garage
    assert "K00002" not in page and "K00003" not in page  # the neighbour's


def test_co_owner_sees_the_shared_premises(home, as_user):
    client = as_user(home["kowalski_user"])
    page = text_of(client.get("/"))
    assert "K00001" in page
    assert "K00101" not in page  # the garage is hers alone
    ledger = client.get(reverse("portal:ledger", args=[home["m1"].pk]), {"period": "all"})
    assert ledger.status_code == 200
    assert "M1 charge 1" in text_of(ledger)


def test_former_owner_no_longer_sees_the_premises(home, as_user):
    client = as_user(home["nowak_user"])
    page = text_of(client.get("/"))
    assert "K00002" in page
    assert "K00003" not in page  # title ended on 30.06.2024
    for url in premises_urls(home["m3"].pk):
        assert client.get(url).status_code == 404, url


def test_neighbours_premises_are_404_by_url_guessing(home, as_user):
    client = as_user(home["kowalska_user"])
    for premises in (home["m2"], home["m3"]):
        for url in premises_urls(premises.pk):
            assert client.get(url).status_code == 404, url
    for url in premises_urls(home["m1"].pk):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("bad_id", ["0", "999999", "9223372036854775807", "99999999999999999999"])
def test_unknown_premises_ids_are_404_never_500(home, as_user, bad_id):
    client = as_user(home["kowalska_user"])
    assert client.get(f"/lokale/{bad_id}/rozrachunki/").status_code == 404
    assert client.get(f"/dokumenty/{bad_id}/pobierz/").status_code == 404


def test_ledger_shows_no_row_of_another_premises(home, as_user):
    client = as_user(home["kowalska_user"])
    page = text_of(client.get(reverse("portal:ledger", args=[home["m1"].pk]), {"period": "all"}))
    assert "M1 charge 1" in page
    for other in ("G1 ", "M2 ", "M3 "):
        assert other not in page
    csv_text = client.get(
        reverse("portal:ledger_csv", args=[home["m1"].pk]), {"period": "all"}
    ).content.decode("utf-8-sig")
    assert "M1 payment 3" in csv_text and "M2" not in csv_text


def test_documents_list_and_download_only_what_the_resident_may_see(home, as_user):
    client = as_user(home["kowalska_user"])
    page = text_of(client.get("/dokumenty/"))
    assert "Zawiadomienie M1" in page and "Uchwała walnego zgromadzenia" in page
    assert "Zawiadomienie M2" not in page and "Rozliczenie M3" not in page
    for document in (home["doc_m2"], home["doc_m3"]):
        url = reverse("portal:document", args=[document.pk])
        assert client.get(url).status_code == 404, url

    own = client.get(reverse("portal:document", args=[home["doc_m1"].pk]))
    assert own.status_code == 200
    assert b"".join(own.streaming_content).startswith(b"%PDF")
    assert own["Content-Disposition"].startswith("attachment")
    assert own["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in own["Cache-Control"]


def test_former_owner_loses_the_documents_of_the_premises(home, as_user):
    client = as_user(home["nowak_user"])
    page = text_of(client.get("/dokumenty/"))
    assert "Zawiadomienie M2" in page and "Uchwała walnego zgromadzenia" in page
    assert "Rozliczenie M3" not in page
    assert client.get(reverse("portal:document", args=[home["doc_m3"].pk])).status_code == 404
    shared = client.get(reverse("portal:document", args=[home["doc_all"].pk]))
    assert shared.status_code == 200


def test_anonymous_visitor_is_sent_to_login_everywhere(home, odra_client):
    urls = [reverse(f"portal:{name}") for name in ALL_PAGES]
    urls += premises_urls(home["m1"].pk)
    urls.append(reverse("portal:document", args=[home["doc_all"].pk]))
    for url in urls:
        response = odra_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_staff_cannot_use_the_residents_portal(odra, in_schema, odra_client, home):
    with in_schema(odra):
        staff = data.make_staff("ewa.czynsze")
    refused = odra_client.post(
        "/login/", {"username": "ewa.czynsze", "password": data.RESIDENT_PASSWORD}
    )
    assert refused.status_code == 200
    assert "_auth_user_id" not in odra_client.session
    assert "panelu obsługi" in text_of(refused)

    client = logged_in(odra, staff)
    for url in ["/", "/dokumenty/", *premises_urls(home["m1"].pk)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/panel/", url


def test_a_resident_of_another_cooperative_gets_nothing_here(home, warta, in_schema):
    with in_schema(warta):
        person = data.make_person("O1", "Kowalska", "Anna")  # the same accounting id as in ODRA
        stranger = data.make_resident(person)
    client = logged_in(warta, stranger)
    assert "K00001" not in text_of(client.get("/"))
    # Her WARTA session means nothing on ODRA's host.
    intruder = logged_in(warta, stranger, host="odra.localhost")
    response = intruder.get(reverse("portal:ledger", args=[home["m1"].pk]))
    assert response.status_code == 302
