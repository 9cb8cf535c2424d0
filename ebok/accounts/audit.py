"""The tenant's audit log: who did what to which account. Never a secret.

The tables of both audit logs are append-only in the database
(docs/decisions/0740-audited-reads-and-denials.md): an UPDATE or DELETE is refused
unless the transaction named its purpose through ``rewriting``.
"""

from contextlib import contextmanager

from django.db import connection, transaction

from ebok.models import AuditEvent

FORBIDDEN_DETAIL_KEYS = {"password", "token", "secret", "current", "new"}
READ = "personal_data.viewed"

# The database setting the append-only guard reads, and the purposes it lets through.
REWRITE_SETTING = "ebok.audit_rewrite"
ERASURE = "erasure"  # UPDATE of logins and addresses only (decision 0503)
RETENTION = "retention"  # DELETE of events past their retention period


def client_ip(request) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR is trustworthy: a trusted proxy's forwarded address is resolved
    # into it by the proxy-aware middleware, never taken from a client header here.
    return request.META.get("REMOTE_ADDR") or None


def record(action: str, *, actor=None, target=None, request=None, **details) -> AuditEvent:
    assert not FORBIDDEN_DETAIL_KEYS & set(details), "secrets never go to the audit log"
    return AuditEvent.objects.create(
        action=action,
        actor_login=login_of(actor),
        target_login=login_of(target),
        ip_address=client_ip(request),
        details=details,
    )


def login_of(user_or_login) -> str:
    if user_or_login is None:
        return ""
    if isinstance(user_or_login, str):
        return user_or_login
    return user_or_login.login


def record_read(view: str, *, actor, request, target=None, **details) -> AuditEvent:
    """Staff read personal data: who, whose record (a login or a person's id) and
    which view; never the values they saw."""
    return record(READ, actor=actor, target=target, request=request, view=view, **details)


def record_card_read(view: str, card, *, actor, request) -> AuditEvent:
    """A person's card was shown: their account (if any) and their accounting id."""
    return record_read(
        view, actor=actor, target=card.account, request=request, person=card.person.source_id
    )


@contextmanager
def rewriting(purpose: str):
    """Lets the append-only guard pass ``purpose``'s statements on the audit tables
    until the block ends (in a transaction of its own or the caller's)."""
    if purpose not in (ERASURE, RETENTION):
        raise ValueError(f"No sanctioned rewrite of the audit log is called {purpose!r}.")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [REWRITE_SETTING, purpose])
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, '', true)", [REWRITE_SETTING])
