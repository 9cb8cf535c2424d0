"""The tenant's audit log: who did what to which account. Never a secret."""

from ebok.models import AuditEvent

FORBIDDEN_DETAIL_KEYS = {"password", "token", "secret", "current", "new"}


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
