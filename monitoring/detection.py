"""Reads of the checks: what in a cooperative's recent activity crosses a
threshold. Run in the cooperative's schema; nothing here writes."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, IntegerField, Max
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncMinute

from connectors.models import SyncRun
from ebok.accounts.audit import READ
from ebok.accounts.denials import DENIED
from ebok.models import AuditEvent
from monitoring import counters
from monitoring.models import SecurityAlert

Kind = SecurityAlert.Kind

# Audit actions counted, and the column an alert is about ("" = the whole cooperative).
AUDIT_RULES = {
    Kind.FAILED_LOGINS_ACCOUNT: (("login.failed",), "target_login"),
    Kind.FAILED_LOGINS_ADDRESS: (("login.failed",), "ip_address"),
    Kind.LOCKOUTS: (("login.locked_out",), ""),
}
# Refusals are audited at the 1st, 10th, 100th… of a minute (ebok.accounts.denials), each
# event carrying how many it stands for: the largest "seen" of a minute is its count.
DENIAL_RULES = {Kind.DENIALS_ACCOUNT: "actor_login", Kind.DENIALS_ADDRESS: "ip_address"}
TRAFFIC_RULES = {Kind.REQUESTS: counters.REQUESTS, Kind.API_ERRORS: counters.API_ERRORS}
FAILED_SYNC = (SyncRun.Outcome.FAILED, SyncRun.Outcome.REJECTED)
SYNC_STREAK_SHOWN = 100  # a longer streak of failures is shown as this many


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    count: int
    threshold: int


def thresholds() -> dict[str, int]:
    """Each kind's threshold from settings; 0 switches a kind off."""
    return {kind: settings.SECURITY_ALERT_THRESHOLDS.get(kind, 0) for kind in Kind.values}


def _with_subject(events, column):
    """Events that name a login or an address in ``column`` (empty logins and
    unknown addresses are no subject)."""
    if column == "ip_address":
        return events.filter(ip_address__isnull=False)
    return events.exclude(**{column: ""})


def _audit_findings(kind, actions, column, since, threshold) -> list[Finding]:
    events = AuditEvent.objects.filter(at__gte=since, action__in=actions)
    if not column:
        count = events.count()
        return [Finding(kind, "", count, threshold)] if count >= threshold else []
    grouped = (
        _with_subject(events, column)
        .values(column)
        .annotate(n=Count("id"))
        .filter(n__gte=threshold)
        .order_by(column)
    )
    return [Finding(kind, str(row[column]), row["n"], threshold) for row in grouped]


def _denial_findings(kind, column, since, threshold) -> list[Finding]:
    per_minute = (
        _with_subject(AuditEvent.objects.filter(at__gte=since, action=DENIED), column)
        .values(column, "details__kind", minute=TruncMinute("at"))
        .annotate(seen=Max(Cast(KeyTextTransform("seen", "details"), IntegerField())))
        .order_by()
    )
    totals: dict[str, int] = {}
    for row in per_minute:
        subject = str(row[column])
        totals[subject] = totals.get(subject, 0) + (row["seen"] or 1)
    return [
        Finding(kind, subject, count, threshold)
        for subject, count in sorted(totals.items())
        if count >= threshold
    ]


def _staff_read_findings(since, threshold) -> list[Finding]:
    """Staff members who opened the cards of ``threshold`` or more different people."""
    readers = (
        AuditEvent.objects.filter(at__gte=since, action=READ, details__has_key="person")
        .exclude(actor_login="")
        .values("actor_login")
        .annotate(people=Count(KeyTextTransform("person", "details"), distinct=True))
        .filter(people__gte=threshold)
        .order_by("actor_login")
    )
    return [
        Finding(Kind.STAFF_READS, row["actor_login"], row["people"], threshold) for row in readers
    ]


def failed_syncs_in_a_row(limit: int) -> int:
    """How many of the latest finished syncs (at most ``limit``) failed, newest first."""
    outcomes = (
        SyncRun.objects.exclude(outcome=SyncRun.Outcome.RUNNING)
        .order_by("-started_at", "-pk")
        .values_list("outcome", flat=True)[:limit]
    )
    streak = 0
    for outcome in outcomes:
        if outcome not in FAILED_SYNC:
            break
        streak += 1
    return streak


def findings(now: dt.datetime) -> list[Finding]:
    """Everything over its threshold in the current schema's last window."""
    window = settings.SECURITY_ALERT_WINDOW_MINUTES
    since = now - dt.timedelta(minutes=window)
    limits = thresholds()
    found = []
    for kind, (actions, column) in AUDIT_RULES.items():
        if limits[kind]:
            found += _audit_findings(kind, actions, column, since, limits[kind])
    if limits[Kind.STAFF_READS]:
        found += _staff_read_findings(since, limits[Kind.STAFF_READS])
    for kind, column in DENIAL_RULES.items():
        if limits[kind]:
            found += _denial_findings(kind, column, since, limits[kind])
    for kind, metric in TRAFFIC_RULES.items():
        if limits[kind]:
            count = counters.recent(
                connection.schema_name, metric, minutes=window, now=now.timestamp()
            )
            if count >= limits[kind]:
                found.append(Finding(kind, "", count, limits[kind]))
    if limit := limits[Kind.SYNC_FAILURES]:
        streak = failed_syncs_in_a_row(max(limit, SYNC_STREAK_SHOWN))
        if streak >= limit:
            found.append(Finding(Kind.SYNC_FAILURES, "", streak, limit))
    return found
