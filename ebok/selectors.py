"""Reads of the accounting copy for one account. Every selector keeps to the
premises the person currently holds: anything else does not exist (404)."""

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from ebok.accounts.denials import DeniedAsNotFound
from ebok.models import (
    Charge,
    DataFreshness,
    Document,
    LedgerEntry,
    LoginRecord,
    MeterReading,
    Parameter,
    Premises,
    Title,
)

ZERO = Decimal("0.00")


def _today() -> date:
    return timezone.localdate()


def current_titles(person_source_id: str, on: date | None = None) -> QuerySet[Title]:
    on = on or _today()
    return Title.objects.filter(person_id=person_source_id, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )


def current_premises(user, on: date | None = None) -> QuerySet[Premises]:
    """The premises the account's person holds today, with balance and monthly charge."""
    if not getattr(user, "person_source_id", ""):
        return Premises.objects.none()
    held = current_titles(user.person_source_id, on).filter(premises_id=OuterRef("source_id"))
    monthly = (
        Charge.objects.filter(premises_id=OuterRef("source_id"))
        .values("premises_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Premises.objects.filter(Exists(held))
        .select_related("balance")
        .annotate(monthly_charge=Coalesce(monthly, ZERO))
        .order_by("kind", "street_address", "unit_number", "id")
    )


def premises_of(user, premises_id) -> Premises:
    """One of the account's current premises, or 404 (never 403: no hint it exists)."""
    try:
        return current_premises(user).get(pk=int(premises_id))
    except (Premises.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise DeniedAsNotFound from error


def ledger(
    premises: Premises,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    kinds: list[str] | None = None,
) -> QuerySet[LedgerEntry]:
    """Entries in posting order, each with the running balance after it."""
    # The balance after each entry counts every earlier entry, whatever the filters
    # (a correlated sum over the (premises, posted_on, position) index).
    # The redundant "posted_on <= outer" gives the index a range to scan: only the
    # earlier entries are read, not every entry of the premises for every row.
    earlier = LedgerEntry.objects.filter(
        premises_id=OuterRef("premises_id"), posted_on__lte=OuterRef("posted_on")
    ).filter(
        Q(posted_on__lt=OuterRef("posted_on"))
        | Q(posted_on=OuterRef("posted_on"), position__lte=OuterRef("position"))
    )
    running = earlier.values("premises_id").annotate(total=Sum(F("debit") - F("credit")))
    entries = LedgerEntry.objects.filter(premises_id=premises.source_id).annotate(
        running_balance=Subquery(running.values("total"))
    )
    if date_from:
        entries = entries.filter(posted_on__gte=date_from)
    if date_to:
        entries = entries.filter(posted_on__lte=date_to)
    if kinds:
        entries = entries.filter(kind__in=kinds)
    return entries.order_by("posted_on", "position")


def ledger_totals(entries: QuerySet[LedgerEntry]) -> dict:
    totals = entries.order_by().aggregate(
        debit=Coalesce(Sum("debit"), ZERO), credit=Coalesce(Sum("credit"), ZERO)
    )
    totals["net"] = totals["debit"] - totals["credit"]
    return totals


def monthly_balances(premises: Premises, months: int = 24, on: date | None = None) -> list[dict]:
    """The balance at the end of each of the last ``months`` months, in one query."""
    on = on or _today()
    this_month = on.replace(day=1)
    index = this_month.year * 12 + this_month.month - 1 - (months - 1)
    start = date(index // 12, index % 12 + 1, 1)
    sql = f"""
        SELECT (month + interval '1 month' - interval '1 day')::date AS month_end,
               COALESCE((SELECT SUM(debit - credit) FROM {LedgerEntry._meta.db_table} e
                         WHERE e.premises_id = %s
                           AND e.posted_on < month + interval '1 month'), 0) AS balance
        FROM generate_series(%s::date, %s::date, interval '1 month') AS month
        ORDER BY month
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [premises.source_id, start, this_month])
        return [{"month_end": row[0], "balance": row[1]} for row in cursor.fetchall()]


def charges(premises: Premises) -> QuerySet[Charge]:
    return Charge.objects.filter(premises_id=premises.source_id).order_by("component", "id")


def parameters(premises: Premises) -> QuerySet[Parameter]:
    return Parameter.objects.filter(premises_id=premises.source_id).order_by("code", "id")


def readings(premises: Premises) -> QuerySet[MeterReading]:
    return MeterReading.objects.filter(premises_id=premises.source_id).order_by(
        "meter", "-read_on", "id"
    )


def documents(user, *, kind: str | None = None) -> QuerySet[Document]:
    """The account's premises' own documents and the cooperative-wide ones, newest first."""
    # The ids as a list, not a subquery: "IS NULL OR IN (list)" lets PostgreSQL
    # combine two scans of the (premises, issued_on) index; "OR IN (subquery)"
    # can only filter a sequential scan of every document of the cooperative.
    held = list(current_premises(user).values_list("source_id", flat=True))
    visible = Document.objects.filter(Q(premises__isnull=True) | Q(premises_id__in=held))
    if not getattr(user, "person_source_id", ""):
        visible = Document.objects.none()
    if kind:
        visible = visible.filter(kind=kind)
    return visible.order_by("-issued_on", "-id")


def document_of(user, document_id) -> Document:
    try:
        return documents(user).get(pk=int(document_id))
    except (Document.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise DeniedAsNotFound from error


def data_freshness() -> DataFreshness | None:
    return DataFreshness.objects.order_by("-package_number").first()


def balance_before(premises: Premises, day: date) -> Decimal:
    """The balance before ``day``: every entry posted earlier, whatever its kind."""
    return LedgerEntry.objects.filter(premises_id=premises.source_id, posted_on__lt=day).aggregate(
        total=Coalesce(Sum(F("debit") - F("credit")), ZERO)
    )["total"]


def monthly_charges_by_component(premises: Premises, *, since: date) -> list[dict]:
    """Charges per month and component from ``since`` on, in one query over the
    (premises, posted_on) index: ``[{"month", "component", "amount"}]``."""
    return list(
        LedgerEntry.objects.filter(
            premises_id=premises.source_id, kind=LedgerEntry.Kind.CHARGE, posted_on__gte=since
        )
        .annotate(month=TruncMonth("posted_on"))
        .values("month", "component")
        .annotate(amount=Sum(F("debit") - F("credit")))
        .order_by("month", "component")
    )


def recent_logins(user, limit: int = 5) -> QuerySet[LoginRecord]:
    """The account's own latest logins, so a resident can notice one that was not theirs."""
    return LoginRecord.objects.filter(user=user).order_by("-at")[:limit]
