"""The same reads as the portal's dashboard, ledger and documents pages (the same
selectors, so the same SQL), answered as JSON: no middleware, session, template,
translation or QR code. The resident is named by ``?user=<id>`` instead of a
session; the host picks the cooperative through the portal's own cached lookup."""

from datetime import timedelta

from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.utils import timezone

from ebok import selectors
from ebok.accounts.models import User
from ebok.accounts.selectors import pending_first_login_steps
from ebok.portal.forms import LedgerFilterForm
from tenants.middleware import cooperative_for_host
from tenants.subdomains import host_of

LEDGER_PAGE_SIZE = 25  # as the portal's pages
DOCUMENTS_PAGE_SIZE = 20


def _resident(request) -> User:
    cooperative = cooperative_for_host(host_of(request))
    if cooperative is None:
        raise Http404
    connection.set_tenant(cooperative)
    user = User.objects.get(pk=int(request.GET["user"]))  # what the session middleware loads
    if pending_first_login_steps(user, cooperative.rules_version):
        raise Http404
    return user


def dashboard(request):
    user = _resident(request)
    premises = [
        {
            "id": item.pk,
            "address": item.address,
            "account": item.account_number,
            "balance": str(item.balance.amount),
            "monthly_charge": str(item.monthly_charge),
        }
        for item in selectors.current_premises(user)
    ]
    freshness = selectors.data_freshness()
    return JsonResponse(
        {"premises": premises, "as_of": freshness.as_of.isoformat() if freshness else None}
    )


def ledger(request, premises_id):
    """This year's entries, as the portal's ledger page shows them by default."""
    user = _resident(request)
    premises = selectors.premises_of(user, premises_id)
    selection = LedgerFilterForm(None).selection(timezone.localdate())
    entries = selectors.ledger(
        premises, date_from=selection.date_from, date_to=selection.date_to, kinds=selection.kinds
    )
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    opening = selectors.balance_before(premises, selection.date_from)
    closing = selectors.balance_before(premises, selection.date_to + timedelta(days=1))
    totals = selectors.ledger_totals(entries)
    rows = [
        {
            "posted_on": entry.posted_on.isoformat(),
            "kind": entry.kind,
            "description": entry.description,
            "debit": str(entry.debit),
            "credit": str(entry.credit),
            "balance": str(entry.running_balance),
        }
        for entry in page
    ]
    return JsonResponse(
        {
            "entries": rows,
            "pages": page.paginator.num_pages,
            "opening": str(opening),
            "closing": str(closing),
            "net": str(totals["net"]),
        }
    )


def documents(request):
    user = _resident(request)
    visible = selectors.documents(user).select_related("premises")
    page = Paginator(visible, DOCUMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"id": doc.pk, "title": doc.title, "kind": doc.kind, "issued_on": doc.issued_on.isoformat()}
        for doc in page
    ]
    return JsonResponse({"documents": rows, "pages": page.paginator.num_pages})
