"""The ledger as a spreadsheet (CSV) and as a printable PDF."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from ebok.models import LedgerEntry, Premises
from ebok.portal import labels
from ebok.portal.formatting import (
    format_date,
    format_datetime,
    format_money,
    format_plain_amount,
)

# Shipped with the app: a clean machine may have no font with Polish letters.
FONTS = Path(__file__).resolve().parent / "fonts"
PDF_WIDTHS = (19, 23, 62, 19, 22, 22, 23)
PDF_ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")


@dataclass(frozen=True)
class LedgerExport:
    cooperative_name: str
    premises: Premises
    period: str
    entries: Iterable[LedgerEntry]
    totals: dict
    opening_balance: Decimal | None
    generated_at: datetime
    notice: str

    def file_name(self, extension: str, today: date) -> str:
        stem = "".join(ch for ch in self.premises.account_number if ch.isalnum()) or "lokal"
        return f"rozrachunki-{stem}-{today:%Y%m%d}.{extension}"


def _headers() -> list[str]:
    return [
        _("Posted on"),
        _("Kind"),
        _("Description"),
        _("Due date"),
        _("Charged"),
        _("Paid / credited"),
        _("Balance after"),
    ]


def _description(entry: LedgerEntry) -> str:
    return " · ".join(part for part in (entry.component, entry.description) if part)


def _row(entry: LedgerEntry, amount) -> list[str]:
    return [
        format_date(entry.posted_on),
        labels.label(labels.LEDGER_KINDS, entry.kind),
        _description(entry),
        format_date(entry.due_on),
        amount(entry.debit) if entry.debit else "",
        amount(entry.credit) if entry.credit else "",
        amount(entry.running_balance),
    ]


def ledger_csv(export: LedgerExport) -> bytes:
    """``;``-separated, decimal comma, UTF-8 with a BOM: opens right in a Polish spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(_headers())
    for entry in export.entries:
        writer.writerow(_row(entry, format_plain_amount))
    totals = export.totals
    writer.writerow(
        [
            _("Total"),
            "",
            export.period,
            "",
            format_plain_amount(totals["debit"]),
            format_plain_amount(totals["credit"]),
            "",
        ]
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class _LedgerPdf(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font("DejaVu", size=7)
        half = self.epw / 2
        self.cell(half, 5, self.footer_text, align="L")
        self.cell(
            half,
            5,
            _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"},
            align="R",
        )


def _line(pdf: FPDF, height: float, text: str) -> None:
    """A paragraph across the page; the next one starts at the left margin."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def ledger_pdf(export: LedgerExport) -> bytes:
    premises = export.premises
    pdf = _LedgerPdf(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(_("Ledger") + f" {premises.account_number}")
    pdf.set_author(export.cooperative_name)
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=16)
    pdf.footer_text = f"{export.cooperative_name} · {format_datetime(export.generated_at)}"
    pdf.add_page()

    pdf.set_font("DejaVu", "B", 13)
    _line(pdf, 7, _("Ledger of %(account)s") % {"account": premises.account_number})
    pdf.set_font("DejaVu", size=9)
    for line in (
        export.cooperative_name,
        f"{labels.label(labels.PREMISES_KINDS, premises.kind)}: {premises.address}",
        _("Period: %(period)s") % {"period": export.period},
    ):
        _line(pdf, 5, line)
    if export.opening_balance is not None:
        _line(
            pdf,
            5,
            _("Balance at the start of the period: %(amount)s")
            % {"amount": format_money(export.opening_balance)},
        )
    pdf.ln(2)

    pdf.set_font("DejaVu", size=7.5)
    bold = FontFace(emphasis="BOLD", fill_color=(230, 233, 237))
    with pdf.table(
        col_widths=PDF_WIDTHS,
        text_align=PDF_ALIGN,
        line_height=4.2,
        headings_style=bold,
        repeat_headings=1,
        padding=1,
    ) as table:
        table.row(_headers())
        for entry in export.entries:
            table.row(_row(entry, format_money))
        totals = export.totals
        table.row(
            [
                _("Total"),
                "",
                export.period,
                "",
                format_money(totals["debit"]),
                format_money(totals["credit"]),
                "",
            ],
            style=FontFace(emphasis="BOLD"),
        )
    pdf.ln(3)
    pdf.set_font("DejaVu", size=8)
    _line(pdf, 4.5, export.notice)
    return bytes(pdf.output())
