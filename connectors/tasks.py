"""Celery tasks: the dispatcher (public schema) and the per-cooperative sync.

The sync task is a tenant task (tenant_schemas_celery): the ``_schema_name``
header makes the worker switch the connection to the cooperative's schema
before it runs. ``acks_late`` + ``reject_on_worker_lost``: a killed worker
puts the message back, and the re-run finds the previous state intact (the
apply transaction died with its connection).
"""

import logging

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

from ebok_platform.celery import app

logger = logging.getLogger(__name__)


@app.task(name="connectors.dispatch_due_syncs", ignore_result=True)
def dispatch_due_syncs_task():
    from connectors.services import dispatch_due_syncs

    dispatched = dispatch_due_syncs()
    if dispatched:
        logger.info("Dispatched syncs of %s", ", ".join(dispatched))
    return dispatched


@app.task(
    name="connectors.sync_cooperative",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def sync_cooperative(trigger: str = "schedule", expected_schema: str | None = None):
    from connectors.services import run_sync

    schema = connection.schema_name
    assert schema != get_public_schema_name(), "a sync must run in a cooperative's schema"
    assert expected_schema in (None, schema), f"running in {schema}, sent for {expected_schema}"
    cooperative = connection.tenant
    summary = run_sync(cooperative, trigger=trigger, wait=False)
    logger.info("Sync of %s: %s %s", cooperative.code, summary.outcome, summary.message)
    return summary.outcome


def enqueue_sync(cooperative, *, trigger: str, countdown: float = 0) -> str:
    """Send the sync task for ``cooperative`` to the sync queue, in its schema."""
    result = sync_cooperative.apply_async(
        kwargs={"trigger": trigger, "expected_schema": cooperative.schema_name},
        queue=settings.CELERY_SYNC_QUEUE,
        countdown=countdown,
        headers={"_schema_name": cooperative.schema_name},
    )
    return result.id
