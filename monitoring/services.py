"""Writes of the security checks: raise, refresh and end alerts, tell the
operators, acknowledge. Alerts live in the public schema."""

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from ebok.accounts.models import User
from monitoring.detection import Finding, findings
from monitoring.models import SecurityAlert
from tenants import audit as operator_audit
from tenants.models import Cooperative

security_log = logging.getLogger("ebok.security")
logger = logging.getLogger(__name__)


class AlertError(Exception):
    """An operator's request about an alert that cannot be done."""


def check_cooperative(cooperative: Cooperative, now: dt.datetime | None = None) -> list:
    """Run the checks in the cooperative's schema (the current one); returns the
    alerts raised now. A condition already alerted on only refreshes its alert."""
    now = now or timezone.now()
    found = findings(now)
    raised = [alert for finding in found if (alert := _raise_or_refresh(cooperative, finding, now))]
    _end_unseen(cooperative, found, now)
    for alert in raised:
        security_log.warning(
            "Security alert %s in %s: %s=%s, %d in %d min (threshold %d)",
            alert.pk,
            cooperative.code,
            alert.kind,
            alert.subject or "-",
            alert.count,
            alert.window_seconds // 60,
            alert.threshold,
        )
    notify_operators(cooperative)
    return raised


def _raise_or_refresh(cooperative, finding: Finding, now) -> SecurityAlert | None:
    key = {"cooperative": cooperative, "kind": finding.kind, "subject": finding.subject}
    refreshed = SecurityAlert.objects.filter(**key, ended_at__isnull=True).update(
        count=finding.count, threshold=finding.threshold, last_seen=now
    )
    if refreshed:
        return None
    try:
        with transaction.atomic():
            return SecurityAlert.objects.create(
                **key,
                count=finding.count,
                threshold=finding.threshold,
                window_seconds=settings.SECURITY_ALERT_WINDOW_MINUTES * 60,
                first_seen=now,
                last_seen=now,
            )
    except IntegrityError:
        return None  # a concurrent check raised it first


def _end_unseen(cooperative, found: list[Finding], now) -> None:
    seen = {(finding.kind, finding.subject) for finding in found}
    open_alerts = SecurityAlert.objects.filter(cooperative=cooperative, ended_at__isnull=True)
    ended = [alert.pk for alert in open_alerts if (alert.kind, alert.subject) not in seen]
    SecurityAlert.objects.filter(pk__in=ended).update(ended_at=now)


def _operator_addresses() -> list[str]:
    with schema_context(get_public_schema_name()):
        return sorted(
            User.objects.filter(kind=User.Kind.OPERATOR, is_active=True, blocked_at__isnull=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )


def _message(cooperative, alerts) -> tuple[str, str]:
    subject = _("Security alert in %(code)s: %(count)d new") % {
        "code": cooperative.code,
        "count": len(alerts),
    }
    lines = [
        _("Unusual activity in %(name)s (%(code)s):")
        % {"name": cooperative.name, "code": cooperative.code},
        "",
    ]
    for alert in alerts:
        lines.append(
            _("- %(kind)s %(subject)s: %(count)d in %(minutes)d min (threshold %(threshold)d)")
            % {
                "kind": alert.get_kind_display(),
                "subject": alert.subject,
                "count": alert.count,
                "minutes": alert.window_seconds // 60,
                "threshold": alert.threshold,
            }
        )
    lines += ["", _("Acknowledge them in the operator console, under Security alerts.")]
    return subject, "\n".join(lines) + "\n"


def notify_operators(cooperative: Cooperative) -> int:
    """E-mail the operators about the cooperative's open alerts nobody was told of
    yet. A mail server that fails leaves them to the next check."""
    alerts = list(
        SecurityAlert.objects.filter(
            cooperative=cooperative, ended_at__isnull=True, notified_at__isnull=True
        ).order_by("kind", "subject")
    )
    if not alerts:
        return 0
    subject, body = _message(cooperative, alerts)
    recipients = _operator_addresses()
    try:
        if recipients:
            send_mail(subject, body, None, recipients)
        else:
            mail_admins(subject, body)
    except (smtplib.SMTPException, OSError) as error:
        logger.error("Security alert mail for %s not sent: %s", cooperative.code, error)
        return 0
    SecurityAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(
        notified_at=timezone.now()
    )
    return len(alerts)


def acknowledge(alert: SecurityAlert, *, actor, request=None) -> None:
    if alert.acknowledged_at is not None:
        raise AlertError(_("This alert is already acknowledged."))
    alert.acknowledged_by = actor.login
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    operator_audit.record(
        "security_alert.acknowledged",
        actor=actor,
        cooperative=alert.cooperative,
        request=request,
        alert=alert.pk,
        kind=alert.kind,
        subject=alert.subject,
    )
