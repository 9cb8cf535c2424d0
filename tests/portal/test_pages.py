"""What a resident reads on each page, in Polish by default and in English on request."""

import csv
import io
import re
from datetime import date

import pytest
from django.urls import reverse

from tests.support import data

NBSP = "\u00a0"


@pytest.fixture
def kowalska(home, as_user):
    return as_user(home["kowalska_user"])


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_card_shows_balance_dates_charge_account_and_notice(home, kowalska):
    page = page_text(kowalska.get("/"))
    assert "Mieszkanie" in page and "Garaż" in page
    assert "ul. Kwiatowa 1/1, 55-200 Oława" in page
    assert "Do zapłaty" in page and f"155,20{NBSP}zł" in page  # M1 owes
    assert "Rozliczone" in page  # G1 is settled
    assert "Saldo na dzień 24.11.2026" in page
    assert "Stan na dzień 24.11.2026, dane odświeżone" in page
    assert f"300,70{NBSP}zł" in page  # monthly charge: 203,70 + 97,00
    m1_account = data.nrb_for(1)
    grouped = " ".join([m1_account[:2]] + [m1_account[i : i + 4] for i in range(2, 26, 4)])
    assert grouped in page
    assert 'data-copy-target="nrb-' in page
    assert page.count("Saldo może nie uwzględniać operacji z ostatnich kilku dni") == 2
    assert page.count("data:image/svg+xml") == 1  # a QR code only where there is something to pay
    assert "<script>" not in page and "style=" not in page


def test_overpayment_reads_nadplata_without_a_qr_code(home, as_user):
    page = page_text(as_user(home["nowak_user"]).get("/"))
    assert "Nadpłata" in page and f"20,00{NBSP}zł" in page
    assert "data:image/svg+xml" not in page


def test_resident_without_premises_sees_whom_to_ask(odra, in_schema, as_user):
    with in_schema(odra):
        user = data.make_resident(data.make_person("X9", "Bezlokalowy"))
    page = page_text(as_user(user).get("/"))
    assert "żaden lokal" in page and "71 303 93 58" in page


def ledger_url(home, name="ledger"):
    return reverse(f"portal:{name}", args=[home["m1"].pk])


def test_ledger_lists_entries_with_running_balance_and_totals(home, kowalska):
    page = page_text(
        kowalska.get(
            ledger_url(home),
            {"period": "custom", "date_from": "2026-01-01", "date_to": "2026-12-31"},
        )
    )
    assert "Bilans otwarcia" in page and "Naliczenie" in page and "Wpłata" in page
    # 10 + 3 × 300 charged, 3 × 250 paid: the last running balance is 160,00.
    assert f"910,00{NBSP}zł" in page and f"750,00{NBSP}zł" in page
    assert f"160,00{NBSP}zł" in page
    assert "Okres: 01.01.2026 – 31.12.2026" in page


def test_ledger_filters_by_kind_and_period(home, kowalska):
    payments_only = page_text(kowalska.get(ledger_url(home), {"period": "all", "kind": "WPL"}))
    assert "M1 payment 1" in payments_only and "M1 charge 1" not in payments_only
    last_year = page_text(kowalska.get(ledger_url(home), {"period": "last_year"}))
    assert "Brak operacji w tym okresie." in last_year
    backwards = kowalska.get(
        ledger_url(home), {"period": "custom", "date_from": "2026-05-01", "date_to": "2026-01-01"}
    )
    assert "Koniec okresu jest wcześniej niż jego początek." in page_text(backwards)


def test_ledger_filter_form_shows_each_query_in_each_language(home, kowalska):
    """The filter form's HTML is kept per language and query (portal.fragments):
    served again, each variant still shows its own choices and language."""
    url = ledger_url(home)
    checked_payments = re.compile(r'value="WPL"[^>]*checked')
    for _ in range(2):  # the second round is served from what the first kept
        plain = page_text(kowalska.get(url))
        payments = page_text(kowalska.get(url, {"period": "all", "kind": "WPL"}))
        assert "Rodzaj operacji" in plain and not checked_payments.search(plain)
        assert checked_payments.search(payments) and '<option value="all" selected>' in payments
    kowalska.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = page_text(kowalska.get(url, {"period": "all", "kind": "WPL"}))
    assert "Kind of entry" in english and "Rodzaj operacji" not in english
    assert checked_payments.search(english)


@pytest.mark.parametrize("page", ["abc", "-1", "0", "999999999999999999999", "", "1.5"])
def test_ledger_pagination_never_fails(home, kowalska, page):
    response = kowalska.get(ledger_url(home), {"period": "all", "page": page})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "99999-01-01", "period": "custom"},
        {"date_from": "\x00", "period": "custom"},
        {"kind": "DROP TABLE"},
        {"period": "{{ 7*7 }}"},
    ],
)
def test_ledger_refuses_hostile_filters_with_a_form_error(home, kowalska, query):
    response = kowalska.get(ledger_url(home), query)
    assert response.status_code == 200
    assert response.context["form"].errors


def test_ledger_paginates_25_per_page(odra, in_schema, home, kowalska):
    with in_schema(odra):
        for day in range(1, 29):
            data.add_ledger(home["m1"], f"EXTRA-{day}", date(2026, 8, day), debit="1.00")
    first = kowalska.get(ledger_url(home), {"period": "all"})
    assert len(first.context["page"].object_list) == 25
    assert "Strona 1 z 2" in first.content.decode()
    second = kowalska.get(ledger_url(home), {"period": "all", "page": "2"})
    assert len(second.context["page"].object_list) == 10  # 35 entries in all


def test_ledger_csv_is_semicolon_separated_utf8_with_bom_and_decimal_comma(home, kowalska):
    response = kowalska.get(ledger_url(home, "ledger_csv"), {"period": "all"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="rozrachunki-K00001')
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Data księgowania", "Rodzaj", "Opis"]
    assert rows[1][:2] == ["01.01.2026", "Bilans otwarcia"]
    charge = next(row for row in rows if "M1 charge 1" in row[2])
    assert charge[4] == "300,00" and charge[6] == "310,00"
    assert rows[-1][0] == "Razem" and rows[-1][4] == "910,00" and rows[-1][5] == "750,00"
    assert len(rows) == 1 + 7 + 1


def test_ledger_pdf_is_a_pdf_attachment_with_embedded_polish_font(home, kowalska):
    response = kowalska.get(ledger_url(home, "ledger_pdf"), {"period": "all"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")
    assert b"DejaVu" in response.content


def test_charges_page_shows_base_times_rate_equals_amount(home, kowalska):
    page = page_text(kowalska.get(reverse("portal:charges", args=[home["m1"].pk])))
    assert "Eksploatacja" in page and "Fundusz remontowy" in page
    assert "48,5 m²" in page and "× 4,20 zł/m²" in page and f"= 203,70{NBSP}zł" in page
    assert "01.01.2026" in page and f"300,70{NBSP}zł" in page


def test_parameters_page_shows_area_parameters_and_readings(home, kowalska):
    page = page_text(kowalska.get(reverse("portal:parameters", args=[home["m1"].pk])))
    assert "48,50 m²" in page and "Liczba osób" in page
    assert "ZW-1" in page and "01.07.2026" in page and "112,5" in page
    assert "12,5" in page  # consumption between the two readings


def test_charts_page_has_two_accessible_svg_charts_and_tables(home, kowalska):
    response = kowalska.get(reverse("portal:charts", args=[home["m1"].pk]))
    page = page_text(response)
    assert page.count('<svg class="chart"') == 2
    assert 'aria-labelledby="balance-chart-title balance-chart-desc"' in page
    assert "Eksploatacja" in page  # the component's name in the legend
    assert len(response.context["balance_chart"].rows) == 24


def test_documents_filter_by_kind(home, kowalska):
    page = page_text(kowalska.get("/dokumenty/", {"kind": "UCH"}))
    assert "Uchwała walnego zgromadzenia" in page and "Zawiadomienie M1" not in page
    everything = page_text(kowalska.get("/dokumenty/"))
    # Newest first: the resolution of June before the notice of January.
    assert everything.index("Uchwała walnego") < everything.index("Zawiadomienie M1")
    assert page_text(kowalska.get("/dokumenty/", {"kind": "nonsense"}))


def test_contact_page_shows_the_cooperatives_details_and_rules(
    home, kowalska, as_user, warta, in_schema
):
    page = page_text(kowalska.get("/kontakt/"))
    for detail in (
        "pok. nr 3",
        "71 303 93 58",
        "czynsze@odra.example",
        "Regulamin (wersja 1)",
        "Spółdzielnia nie posiada informacji o indywidualnym haśle.",
    ):
        assert detail in page
    from tests.portal.conftest import logged_in

    with in_schema(warta):
        user = data.make_resident(data.make_person("W1", "Poznańska"))
    warta_page = page_text(logged_in(warta, user).get("/kontakt/"))
    assert "Regulamin e-BOK Warty." in warta_page and "pok. nr 3" not in warta_page


def test_english_is_one_click_away(home, kowalska):
    response = kowalska.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = page_text(kowalska.get("/"))
    assert '<html lang="en">' in page
    assert "To pay" in page and "Flat" in page and f"155,20{NBSP}zł" in page
    assert "24.11.2026" in page


@pytest.mark.parametrize(
    "name", ["dashboard", "documents", "contact", "account", "password_change", "rules"]
)
def test_personal_pages_are_never_cached(home, kowalska, name):
    response = kowalska.get(reverse(f"portal:{name}"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_premises_pages_are_never_cached(home, kowalska):
    for name in ("ledger", "charges", "parameters", "charts"):
        response = kowalska.get(reverse(f"portal:{name}", args=[home["m1"].pk]))
        assert "no-store" in response["Cache-Control"], name
