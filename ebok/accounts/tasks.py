"""Celery tasks of accounts: notices to the holder, sent in the account's schema.

A tenant task (tenant_schemas_celery): the ``_schema_name`` header switches the
worker's connection to the cooperative's schema (or the public one, for operators).
A mail server that refuses or is unreachable gets the notice again later.
"""

import logging

from django.db import connection

from ebok_platform.celery import app

logger = logging.getLogger(__name__)


@app.task(
    name="accounts.send_notice",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),  # smtplib's errors and refused connections
    retry_backoff=30,
    max_retries=8,
)
def send_notice(
    *, user_id: int, kind: str, at: str, language: str, details: dict, expected_schema: str
):
    from ebok.accounts.notifications import deliver

    schema = connection.schema_name
    assert schema == expected_schema, f"running in {schema}, sent for {expected_schema}"
    sent = deliver(user_id=user_id, kind=kind, at=at, language=language, details=details)
    logger.info("Notice %s for account %s in %s: %s", kind, user_id, schema, sent)
    return sent
