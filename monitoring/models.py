from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenants.models import Cooperative


class SecurityAlert(models.Model):
    """Unusual activity seen in a cooperative (public schema, for the operators).

    One row per condition while it lasts: later checks that still see it update
    ``count`` and ``last_seen``; when a check no longer sees it, ``ended_at`` is set
    and a recurrence is a new alert.
    """

    class Kind(models.TextChoices):
        FAILED_LOGINS_ACCOUNT = "failed_logins_account", _("failed logins of one account")
        FAILED_LOGINS_ADDRESS = "failed_logins_address", _("failed logins from one address")
        LOCKOUTS = "lockouts", _("lockouts")
        DENIALS_ACCOUNT = "denials_account", _("access denials of one account")
        DENIALS_ADDRESS = "denials_address", _("access denials from one address")
        STAFF_READS = "staff_reads", _("person cards opened by one staff member")
        API_ERRORS = "api_errors", _("API error responses")
        REQUESTS = "requests", _("requests")
        SYNC_FAILURES = "sync_failures", _("syncs failing in a row")

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="security_alerts"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # An account's login or a client address, never anything else about a person.
    subject = models.CharField(max_length=64, blank=True)
    count = models.PositiveIntegerField()
    threshold = models.PositiveIntegerField()
    window_seconds = models.PositiveIntegerField()
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=64, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        verbose_name = _("security alert")
        verbose_name_plural = _("security alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["cooperative", "kind", "subject"],
                condition=Q(ended_at__isnull=True),
                name="one_open_alert_per_condition",
            )
        ]

    def __str__(self):
        return f"{self.cooperative_id} {self.kind} {self.subject} ×{self.count}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
