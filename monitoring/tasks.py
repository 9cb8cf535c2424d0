"""Celery tasks of the security checks and of retention.

Beat has one static entry per job (``ebok_platform.celery``); each fans out one
tenant task per cooperative, which the worker runs in that cooperative's schema
(the ``_schema_name`` header), as the sync dispatcher does.
"""

import logging

from django.db import connection
from django_tenants.utils import get_public_schema_name

from ebok_platform.celery import app

logger = logging.getLogger(__name__)


def _in_cooperative_schema(expected_schema: str | None):
    schema = connection.schema_name
    assert schema != get_public_schema_name(), "runs in a cooperative's schema"
    assert expected_schema in (None, schema), f"running in {schema}, sent for {expected_schema}"
    return connection.tenant


def _fan_out(task, cooperatives) -> list[str]:
    for cooperative in cooperatives:
        task.apply_async(
            kwargs={"expected_schema": cooperative.schema_name},
            headers={"_schema_name": cooperative.schema_name},
        )
    return [cooperative.code for cooperative in cooperatives]


@app.task(name="monitoring.dispatch_checks", ignore_result=True)
def dispatch_checks_task():
    from tenants.selectors import cooperatives

    # Suspended cooperatives serve no requests: nothing to watch there.
    return _fan_out(check_cooperative_task, list(cooperatives().filter(is_active=True)))


@app.task(name="monitoring.check_cooperative", ignore_result=True)
def check_cooperative_task(expected_schema: str | None = None):
    from monitoring.services import check_cooperative

    raised = check_cooperative(_in_cooperative_schema(expected_schema))
    return len(raised)


@app.task(name="monitoring.dispatch_purges", ignore_result=True)
def dispatch_purges_task():
    from monitoring.retention import purge_public
    from tenants.selectors import cooperatives

    logger.info("Purged from the public schema: %s", purge_public())
    return _fan_out(purge_cooperative_task, list(cooperatives()))


@app.task(name="monitoring.purge_cooperative", ignore_result=True)
def purge_cooperative_task(expected_schema: str | None = None):
    from monitoring.retention import purge_cooperative

    cooperative = _in_cooperative_schema(expected_schema)
    counts = purge_cooperative(cooperative)
    logger.info("Purged from %s: %s", cooperative.code, counts)
    return counts
