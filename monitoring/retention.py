"""Storage limitation: personal traces older than their retention period go,
in every cooperative's schema and in the public one (docs/decisions/0750).

Each kind of record is removed with one set-based DELETE (``QuerySet.delete()``
of a model without delete signals or dependants) and counted the same way for
a dry run. Files of the connectors go by modification time.
"""

import datetime as dt
import shutil
from contextlib import nullcontext
from pathlib import Path

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from connectors.models import SyncRun
from connectors.zsi_file import ZsiFileConnector, default_folder
from ebok.accounts import audit
from ebok.models import ApiToken, AuditEvent, LoginRecord
from monitoring.models import SecurityAlert
from tenants.models import ConnectorSettings, Cooperative, OperatorAuditEvent

PACKAGE_FOLDERS = ("quarantine", "archive")
# Append-only tables: their deletes go through the guard's sanctioned purpose (decision 0740).
AUDIT_KINDS = {"audit_events", "operator_audit_events"}


def _days_ago(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def _common(now: dt.datetime) -> dict:
    """What both kinds of schema hold: sessions and the lockout records."""
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    logins_before = _days_ago(now, settings.LOGIN_RETENTION_DAYS)
    return {
        "sessions": Session.objects.filter(expire_date__lt=now),
        "lockout_attempts": AccessAttempt.objects.filter(attempt_time__lt=now - cool_off),
        "lockout_logins": AccessLog.objects.filter(attempt_time__lt=logins_before),
        "lockout_failures": AccessFailureLog.objects.filter(attempt_time__lt=logins_before),
    }


def _latest_applied_run():
    # Its file keys tell the next import which files are unchanged: it stays.
    return (
        SyncRun.objects.filter(outcome=SyncRun.Outcome.APPLIED)
        .order_by("-finished_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def cooperative_records(now: dt.datetime) -> dict:
    """The expired records of the current cooperative's schema, by kind."""
    return {
        "audit_events": AuditEvent.objects.filter(
            at__lt=_days_ago(now, settings.AUDIT_RETENTION_DAYS)
        ),
        "login_records": LoginRecord.objects.filter(
            at__lt=_days_ago(now, settings.LOGIN_RETENTION_DAYS)
        ),
        "api_tokens": ApiToken.objects.filter(
            expires_at__lt=_days_ago(now, settings.API_TOKEN_GRACE_DAYS)
        ),
        "sync_runs": SyncRun.objects.filter(
            started_at__lt=_days_ago(now, settings.SYNC_RECORD_RETENTION_DAYS)
        )
        .exclude(outcome=SyncRun.Outcome.RUNNING)
        .exclude(pk=_latest_applied_run()),
        **_common(now),
    }


def public_records(now: dt.datetime) -> dict:
    """The expired records of the public schema (operators and their alerts)."""
    audit_before = _days_ago(now, settings.AUDIT_RETENTION_DAYS)
    return {
        "operator_audit_events": OperatorAuditEvent.objects.filter(at__lt=audit_before),
        "security_alerts": SecurityAlert.objects.filter(
            ended_at__isnull=False, last_seen__lt=audit_before
        ),
        **_common(now),
    }


def package_folders(cooperative: Cooperative) -> list[Path]:
    """Where the cooperative's rejected, applied and half-downloaded packages lie."""
    folders = {default_folder(cooperative.code, kind) for kind in PACKAGE_FOLDERS}
    folders.add(default_folder(cooperative.code, "rest"))
    row = ConnectorSettings.objects.filter(
        cooperative=cooperative, connector=ZsiFileConnector.name
    ).first()
    if row and row.config.get("inbox"):
        configured = ZsiFileConnector.folders(row.config)
        folders.update(configured[kind] for kind in PACKAGE_FOLDERS)
    return sorted(folders)


def expired_package_files(cooperative: Cooperative, now: dt.datetime) -> list[Path]:
    before = _days_ago(now, settings.PACKAGE_RETENTION_DAYS).timestamp()
    return [
        entry
        for folder in package_folders(cooperative)
        if folder.is_dir()
        for entry in sorted(folder.iterdir())
        if entry.lstat().st_mtime < before
    ]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def purge(records: dict, *, dry_run: bool) -> dict[str, int]:
    """Delete (or, for a dry run, count) each kind's expired records."""
    if dry_run:
        return {kind: queryset.count() for kind, queryset in records.items()}
    counts = {}
    for kind, queryset in records.items():
        with audit.rewriting(audit.RETENTION) if kind in AUDIT_KINDS else nullcontext():
            counts[kind] = queryset.delete()[1].get(queryset.model._meta.label, 0)
    return counts


def purge_cooperative(
    cooperative: Cooperative, *, now: dt.datetime | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Purge the current schema (the cooperative's) and its package folders."""
    now = now or timezone.now()
    counts = purge(cooperative_records(now), dry_run=dry_run)
    files = expired_package_files(cooperative, now)
    if not dry_run:
        for path in files:
            _remove(path)
    counts["package_files"] = len(files)
    return counts


def purge_public(*, now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    return purge(public_records(now or timezone.now()), dry_run=dry_run)
