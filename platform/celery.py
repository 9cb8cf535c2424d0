"""The one Celery app. Tasks that touch a cooperative's data run in its schema."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebok_platform.settings")

app = CeleryApp("ebok")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_dispatcher(sender, **kwargs):
    # One static entry; which cooperative is due lives in the database.
    from django.conf import settings

    sender.add_periodic_task(
        settings.SYNC_DISPATCH_SECONDS,
        sender.signature("connectors.dispatch_due_syncs"),
        name="dispatch due syncs",
    )
    # One static entry per job of the security checks and of retention; each fans out
    # per cooperative (monitoring.tasks).
    sender.add_periodic_task(
        settings.SECURITY_CHECK_SECONDS,
        sender.signature("monitoring.dispatch_checks"),
        name="security checks",
    )
    sender.add_periodic_task(
        settings.RETENTION_RUN_SECONDS,
        sender.signature("monitoring.dispatch_purges"),
        name="purge expired records",
    )
