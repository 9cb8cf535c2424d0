"""The operators' audit log (public schema): who did what to which cooperative."""

from ebok.accounts.audit import FORBIDDEN_DETAIL_KEYS, client_ip
from tenants.models import OperatorAuditEvent


def record(action: str, *, actor=None, cooperative=None, request=None, **details):
    assert not FORBIDDEN_DETAIL_KEYS & set(details), "secrets never go to the audit log"
    return OperatorAuditEvent.objects.create(
        action=action,
        actor_login=getattr(actor, "login", actor or "") or "",
        cooperative_code=getattr(cooperative, "code", cooperative or "") or "",
        ip_address=client_ip(request),
        details=details,
    )
