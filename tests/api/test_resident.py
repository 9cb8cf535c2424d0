"""Residents' endpoints: the caller's current premises only, and IDOR probes."""

from datetime import date

import pytest

from tests.api.conftest import error_of, token_for
from tests.support.data import (
    add_document,
    add_ledger,
    give_title,
    make_person,
    make_premises,
    make_resident,
)

PREMISES_PATHS = ["", "ledger/", "charges/", "parameters/", "readings/"]


@pytest.fixture
def anna(household, odra_api):
    return odra_api.as_(household["anna_token"])


@pytest.fixture
def piotr(household, odra_api):
    return odra_api.as_(household["piotr_token"])


def test_premises_lists_the_current_ones_with_balance_as_decimal_strings(household, anna):
    response = anna.get("premises/")
    assert response.status_code == 200
    by_source = {p["source_id"]: p for p in response.json()}
    assert set(by_source) == {"L1", "G1"}
    flat = by_source["L1"]
    assert flat == {
        "id": household["m1"].pk,
        "source_id": "L1",
        "account_number": "K00001",
        "kind": "M",
        "kind_name": flat["kind_name"],
        "address": "ul. Kwiatowa 1/1, 55-200 Oława",
        "area": "48.50",
        "balance": "155.20",
        "as_of": "2026-11-24",
        "refreshed_at": flat["refreshed_at"],
        "bank_account": household["m1"].bank_account,
        "monthly_charge": "155.20",
    }
    assert flat["refreshed_at"].startswith(str(date.today().year))
    assert by_source["G1"]["balance"] == "0.00"


def test_overpayment_is_a_negative_balance(household, piotr):
    (premises,) = piotr.get("premises/").json()
    assert (premises["source_id"], premises["balance"]) == ("L2", "-20.00")


def test_premises_without_a_delivered_balance_shows_null(household, odra, in_schema, anna):
    with in_schema(odra):
        give_title(household["kowalska"], make_premises("P9", number=9, kind="P"))
    storage = next(p for p in anna.get("premises/").json() if p["source_id"] == "P9")
    assert (storage["balance"], storage["as_of"]) == (None, None)


def test_ledger_in_posting_order_with_running_balance(household, anna):
    response = anna.get(f"premises/{household['m1'].pk}/ledger/")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    first, charge, payment = body["results"]
    assert set(charge) == {
        "source_id",
        "posted_on",
        "document_date",
        "due_on",
        "kind",
        "kind_name",
        "component",
        "description",
        "debit",
        "credit",
        "running_balance",
    }
    assert (charge["source_id"], charge["posted_on"], charge["due_on"]) == (
        "Z2",
        "2026-01-10",
        "2026-01-15",
    )
    assert (charge["kind"], charge["component"], charge["debit"], charge["credit"]) == (
        "NAL",
        "EKSPL",
        "155.20",
        "0.00",
    )
    assert [e["running_balance"] for e in (first, charge, payment)] == [
        "100.00",
        "255.20",
        "155.20",
    ]


def test_ledger_filters_by_dates_and_kinds(household, anna):
    path = f"premises/{household['m1'].pk}/ledger/"

    def sources(params):
        return [e["source_id"] for e in anna.get(path, params).json()["results"]]

    assert sources({"from": "2026-01-05"}) == ["Z2", "Z3"]
    assert sources({"to": "2026-01-10"}) == ["Z1", "Z2"]
    assert sources({"kind": ["WPL", "BO"]}) == ["Z1", "Z3"]
    assert sources({"from": "2026-02-01", "to": "2026-01-01"}) == []
    # The balance after an entry counts every earlier one, whatever the filters.
    payment = anna.get(path, {"kind": "WPL"}).json()["results"][0]
    assert payment["running_balance"] == "155.20"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"kind": "XYZ"}, "kind"),
    ],
)
def test_invalid_ledger_filters_are_400_in_the_error_shape(household, anna, params, field):
    response = anna.get(f"premises/{household['m1'].pk}/ledger/", params)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_ledger_is_paginated(household, odra, in_schema, anna):
    with in_schema(odra):
        for number in range(60):
            add_ledger(household["g1"], f"G-{number}", date(2025, 1, 1), debit="1.00")
    path = f"premises/{household['g1'].pk}/ledger/"
    first = anna.get(path).json()
    assert (first["count"], len(first["results"])) == (60, 50)
    assert first["next"].endswith("page=2")
    second = anna.get(path, {"page": 2}).json()
    assert len(second["results"]) == 10
    assert second["results"][-1]["running_balance"] == "60.00"
    beyond = anna.get(path, {"page": 3})
    assert beyond.status_code == 404
    assert error_of(beyond)["code"] == "not_found"


def test_charges_parameters_and_readings(household, anna):
    base = f"premises/{household['m1'].pk}/"
    assert anna.get(base + "charges/").json() == [
        {
            "component": "EKSPL",
            "name": "Eksploatacja",
            "base": "48.5000",
            "unit": "m2",
            "rate": "3.2000",
            "amount": "155.20",
            "valid_from": "2026-01-01",
        }
    ]
    assert anna.get(base + "parameters/").json() == [
        {"code": "OSOBY", "name": "Liczba osób", "value": "3", "unit": "os.", "valid_from": None}
    ]
    assert anna.get(base + "readings/").json() == [
        {"meter": "ZW-1", "read_on": "2026-06-30", "value": "12.345", "unit": "m3"}
    ]


def test_documents_of_own_premises_and_for_everyone(household, anna):
    body = anna.get("documents/").json()
    assert {d["source_id"] for d in body["results"]} == {"D1", "D4"}
    shared = next(d for d in body["results"] if d["source_id"] == "D4")
    assert shared["premises"] is None
    own = next(d for d in body["results"] if d["source_id"] == "D1")
    assert own["premises"] == household["m1"].pk
    assert own["file"] == f"http://odra.localhost/api/v1/documents/{own['id']}/file"
    assert [d["source_id"] for d in anna.get("documents/", {"kind": "UCH"}).json()["results"]] == [
        "D4"
    ]
    invalid = anna.get("documents/", {"kind": "NOPE"})
    assert invalid.status_code == 400
    assert "kind" in error_of(invalid)["fields"]


@pytest.mark.parametrize("accept", ["application/pdf", "application/json", "*/*"])
def test_document_file_is_a_pdf_attachment(household, anna, accept):
    response = anna.get(f"documents/{household['doc_m1'].pk}/file", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="D1.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n%test\n"


def test_document_whose_file_is_missing_is_404(household, odra, in_schema, anna):
    with in_schema(odra):
        document = add_document("D9", premises=household["m1"], content=b"%PDF-1.4 missing")
        document.stored_path = "documents/gone.pdf"
        document.save()
    response = anna.get(f"documents/{document.pk}/file")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- IDOR probes: every {id} that is not the caller's is 404 -------------------------------


def _assert_not_found(api, path):
    response = api.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("sub", PREMISES_PATHS)
def test_neighbours_premises_is_404(household, anna, sub):
    _assert_not_found(anna, f"premises/{household['m2'].pk}/{sub}")


@pytest.mark.parametrize("sub", PREMISES_PATHS)
def test_former_owners_premises_is_404(household, piotr, sub):
    # Nowak's title to M3 ended in 2024: its data is no longer his to see.
    _assert_not_found(piotr, f"premises/{household['m3'].pk}/{sub}")


@pytest.mark.parametrize("sub", PREMISES_PATHS)
def test_co_owner_sees_the_shared_flat_but_not_the_other_ones_garage(
    household, odra, in_schema, odra_api, sub
):
    with in_schema(odra):
        jan = odra_api.as_(token_for(make_resident(household["kowalski"])))
    assert jan.get(f"premises/{household['m1'].pk}/{sub}").status_code == 200
    _assert_not_found(jan, f"premises/{household['g1'].pk}/{sub}")


@pytest.mark.parametrize("sub", PREMISES_PATHS)
def test_another_cooperatives_ids_are_404_or_401(
    household, warta, in_schema, anna, warta_api, odra_api, sub
):
    with in_schema(warta):
        ewa = make_person("O1", "Zielińska", "Ewa")
        foreign = make_premises("W1", number=1)
        give_title(ewa, foreign)
        ewa_api = warta_api.as_(token_for(make_resident(ewa)))
    assert ewa_api.get(f"premises/{foreign.pk}/{sub}").status_code == 200
    # ODRA's ids mean nothing on WARTA's host, whatever the numbers are...
    for premises in ("m1", "m2", "g1"):
        if household[premises].pk != foreign.pk:
            _assert_not_found(ewa_api, f"premises/{household[premises].pk}/{sub}")
    # ...and neither cooperative's token opens anything on the other's host.
    assert warta_api.as_(anna.token).get(f"premises/{foreign.pk}/{sub}").status_code == 401
    assert (
        odra_api.as_(ewa_api.token).get(f"premises/{household['m1'].pk}/{sub}").status_code == 401
    )


@pytest.mark.parametrize("document", ["doc_m2", "doc_m3"], ids=["neighbours", "former owners"])
def test_other_peoples_documents_are_404(household, anna, piotr, document):
    _assert_not_found(anna, f"documents/{household[document].pk}/file")
    if document == "doc_m3":
        _assert_not_found(piotr, f"documents/{household[document].pk}/file")


@pytest.mark.parametrize("path", ["premises/abc/", "premises/99999999999999999999/ledger/", "x/"])
def test_unknown_addresses_under_the_api_are_404_json(household, anna, path):
    _assert_not_found(anna, path)
