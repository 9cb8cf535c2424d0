"""Polish money, dates and bank accounts; the payment QR code's payload; the SVG charts."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ebok.models import Document, LedgerEntry, Premises
from ebok.portal import charts, labels, payments
from ebok.portal.formatting import (
    format_date,
    format_datetime,
    format_money,
    format_nrb,
    format_number,
    format_plain_amount,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("1234.56", f"1{NBSP}234,56{NBSP}zł"),
        ("0", f"0,00{NBSP}zł"),
        ("-20", f"-20,00{NBSP}zł"),
        ("1234567.5", f"1{NBSP}234{NBSP}567,50{NBSP}zł"),
        ("999.995", f"1{NBSP}000,00{NBSP}zł"),
        ("-0.004", f"0,00{NBSP}zł"),
    ],
)
def test_money_is_written_the_polish_way(amount, text):
    assert format_money(Decimal(amount)) == text


def test_numbers_dates_and_accounts():
    assert format_number(Decimal("48.5000"), places=None) == "48,5"
    assert format_number(Decimal("2.0000"), places=None) == "2"
    assert format_number(Decimal("4.2000"), places=None, min_places=2) == "4,20"
    assert format_plain_amount(Decimal("12345.6")) == "12345,60"
    assert format_date(date(2026, 11, 24)) == "24.11.2026"
    utc_evening = datetime(2026, 11, 24, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert format_datetime(utc_evening) == "25.11.2026 00:30"  # Warsaw time
    assert format_nrb("61109010140000071219812874") == "61 1090 1014 0000 0712 1981 2874"
    assert format_money(None) == "" and format_date(None) == ""


def test_every_accounting_code_has_a_label():
    assert set(labels.LEDGER_KINDS) == set(LedgerEntry.Kind.values)
    assert set(labels.DOCUMENT_KINDS) == set(Document.Kind.values)
    assert set(labels.PREMISES_KINDS) == set(Premises.Kind.values)


def test_qr_payload_follows_the_bank_association_recommendation():
    payload = payments.qr_payload(
        nrb="61 1090 1014 0000 0712 1981 2874",
        amount=Decimal("155.20"),
        recipient=payments.recipient_name("Spółdzielnia Mieszkaniowa „ODRA” w Oławie"),
        title=payments.transfer_title("K00001"),
    )
    expected = "|PL|61109010140000071219812874|015520|SM „ODRA” w Oławie|"
    assert payload == expected + "Opłaty eksploatacyjne K00001|||"
    fields = payload.split("|")
    assert len(fields) == 9 and len(fields[4]) <= 20 and len(fields[5]) <= 32


def test_qr_amount_over_the_field_leaves_it_to_the_payer():
    assert payments.amount_field(Decimal("9999.99")) == "999999"
    assert payments.amount_field(Decimal("10000.00")) == "000000"
    assert payments.amount_field(Decimal("0.01")) == "000001"


def test_qr_fields_cannot_break_the_format():
    payload = payments.qr_payload(
        nrb="61109010140000071219812874",
        amount=Decimal("1"),
        recipient="SM|Odra\nOława and a very long name",
        title="a|b",
        nip="123-456-32-18",
    )
    fields = payload.split("|")
    assert len(fields) == 9
    assert fields[0] == "1234563218" and fields[4] == "SM Odra Oława and a"
    with pytest.raises(ValueError):
        payments.qr_payload(nrb="123", amount=Decimal("1"), recipient="x", title="y")


def test_qr_code_is_byte_mode_level_l_as_an_svg_data_uri():
    payload = "|PL|61109010140000071219812874|015520|SM ODRA|Opłaty K00001|||"
    code = payments.qr_code(payload)
    assert code.error == "L" and code.mode == "byte" and not code.is_micro
    uri = payments.qr_data_uri(payload)
    assert uri.startswith("data:image/svg+xml")
    assert "<script" not in uri


def test_bar_chart_is_accessible_svg_with_escaped_text():
    columns = [
        charts.Column("01.2026", [charts.Segment(Decimal("120"), "bar-owed")]),
        charts.Column("02.2026", [charts.Segment(Decimal("-40"), "bar-overpaid", "<b>x</b>")]),
    ]
    svg = charts.bar_chart(columns, chart_id="c", title="Saldo <test>", description="Opis")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">Saldo &lt;test&gt;</title>' in svg
    assert "<b>" not in svg
    assert svg.count('class="bar-owed"') == 1 and svg.count('class="bar-overpaid"') == 1
    assert "style=" not in svg  # the CSP forbids inline styles


def test_charts_handle_no_data_at_all():
    empty = charts.balance_history([])
    assert empty.rows == [] and "<svg" in empty.svg
    months = charts.recent_months(date(2026, 3, 15), 12)
    assert months[0] == date(2025, 4, 1) and months[-1] == date(2026, 3, 1) and len(months) == 12
    nothing = charts.charges_history([], {}, months)
    assert len(nothing.rows) == 12 and nothing.legend == []
