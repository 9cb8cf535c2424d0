"""The dashboard and the pages of one premises: ledger, charges, parameters, charts."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from ebok import selectors
from ebok.models import MeterReading
from ebok.portal import charts, exports, fragments, tables
from ebok.portal.access import resident_page
from ebok.portal.cards import balance_of, premises_card
from ebok.portal.formatting import format_date
from ebok.portal.forms import LedgerFilterForm

LEDGER_PAGE_SIZE = 25


def data_notice() -> str:
    return _(
        "The balance may not include operations of the last few days that have not "
        "been posted yet. The data are for information only."
    )


@resident_page
def dashboard(request):
    cards = [
        premises_card(premises, request.tenant.name)
        for premises in selectors.current_premises(request.user)
    ]
    context = {"cards": cards, "freshness": selectors.data_freshness()}
    return render(request, "portal/dashboard.html", context)


def _premises_page(request, premises, template, section, **context):
    context.update(premises=premises, balance=balance_of(premises), section=section)
    return render(request, template, context)


def _ledger_query(request, premises):
    form = LedgerFilterForm(request.GET or None)
    selection = form.selection(timezone.localdate())
    entries = selectors.ledger(
        premises,
        date_from=selection.date_from,
        date_to=selection.date_to,
        kinds=selection.kinds,
    )
    if selection.date_from or selection.date_to:
        start, end = format_date(selection.date_from), format_date(selection.date_to)
        period = f"{start or '…'} – {end or '…'}"
    else:
        period = _("all entries")
    return form, selection, entries, period


@resident_page
def ledger(request, premises_id):
    premises = selectors.premises_of(request.user, premises_id)
    form, selection, entries, period = _ledger_query(request, premises)
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    opening = closing = None
    if selection.date_from:
        opening = selectors.balance_before(premises, selection.date_from)
    if selection.date_to:
        closing = selectors.balance_before(premises, selection.date_to + timedelta(days=1))
    return _premises_page(
        request,
        premises,
        "portal/ledger.html",
        "ledger",
        form=form,
        filters=fragments.filter_form("portal/_ledger_filters.html", form),
        page=page,
        rows=tables.ledger_rows(page.object_list),
        period=period,
        totals=selectors.ledger_totals(entries),
        opening=opening,
        closing=closing,
    )


def _ledger_export(request, premises_id) -> exports.LedgerExport:
    premises = selectors.premises_of(request.user, premises_id)
    _form, selection, entries, period = _ledger_query(request, premises)
    return exports.LedgerExport(
        cooperative_name=request.tenant.name,
        premises=premises,
        period=period,
        entries=entries,
        totals=selectors.ledger_totals(entries),
        opening_balance=(
            selectors.balance_before(premises, selection.date_from) if selection.date_from else None
        ),
        generated_at=timezone.now(),
        notice=data_notice(),
    )


def attachment(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@resident_page
def ledger_csv(request, premises_id):
    export = _ledger_export(request, premises_id)
    return attachment(
        exports.ledger_csv(export),
        content_type="text/csv; charset=utf-8",
        filename=export.file_name("csv", timezone.localdate()),
    )


@resident_page
def ledger_pdf(request, premises_id):
    export = _ledger_export(request, premises_id)
    return attachment(
        exports.ledger_pdf(export),
        content_type="application/pdf",
        filename=export.file_name("pdf", timezone.localdate()),
    )


@resident_page
def charges(request, premises_id):
    premises = selectors.premises_of(request.user, premises_id)
    rows = list(selectors.charges(premises))
    total = sum((row.amount for row in rows), Decimal("0.00"))
    return _premises_page(
        request, premises, "portal/charges.html", "charges", charges=rows, total=total
    )


@dataclass(frozen=True)
class ReadingRow:
    reading: MeterReading
    consumption: Decimal | None  # since the meter's previous reading


def with_consumption(readings: list[MeterReading]) -> list[ReadingRow]:
    """Readings come newest first per meter; each one's consumption is the
    difference to the next (older) reading of the same meter."""
    rows = []
    for current, older in zip(readings, readings[1:] + [None], strict=True):
        same_meter = older is not None and older.meter == current.meter
        rows.append(ReadingRow(current, current.value - older.value if same_meter else None))
    return rows


@resident_page
def parameters(request, premises_id):
    premises = selectors.premises_of(request.user, premises_id)
    return _premises_page(
        request,
        premises,
        "portal/parameters.html",
        "parameters",
        parameters=list(selectors.parameters(premises)),
        readings=with_consumption(list(selectors.readings(premises))),
    )


@resident_page
def premises_charts(request, premises_id):
    premises = selectors.premises_of(request.user, premises_id)
    months = charts.recent_months(timezone.localdate(), 12)
    names = {charge.component: charge.name for charge in selectors.charges(premises)}
    by_component = selectors.monthly_charges_by_component(premises, since=months[0])
    return _premises_page(
        request,
        premises,
        "portal/charts.html",
        "charts",
        balance_chart=charts.balance_history(selectors.monthly_balances(premises, 24)),
        charges_chart=charts.charges_history(by_component, names, months),
    )
