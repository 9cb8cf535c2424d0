from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncRun(models.Model):
    """One package seen from the accounting system, whatever became of it."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        APPLIED = "applied", _("applied")
        DUPLICATE = "duplicate", _("duplicate")
        REJECTED = "rejected", _("rejected")
        FAILED = "failed", _("failed")
        NOTHING = "nothing", _("no new package")

    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    connector = models.CharField(max_length=40)
    trigger = models.CharField(max_length=20, default="schedule")  # schedule, manual, command
    source = models.CharField(max_length=500, blank=True)  # file name or URL
    package_number = models.PositiveBigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    as_of = models.DateField(null=True, blank=True)
    mode = models.CharField(max_length=12, blank=True)  # PELNY / PRZYROSTOWY
    counts = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    errors = models.JSONField(default=list, blank=True)
    progress = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "connectors_sync_run"
        ordering = ["-started_at"]
