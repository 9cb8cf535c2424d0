"""Failed access-control decisions in the audit log (ASVS 7.2.2, 7.1.3, 14.5.1).

Every refusal is one JSON line on stdout; the audit log gets the event
``access.denied`` (details: ``kind``, ``method``, ``path``, ``seen``) for the 1st,
10th, 100th… refusal of one kind, account and address in a minute, and at most
``DENIALS_AUDITED_PER_MINUTE`` events per cooperative a minute, so a scanner
cannot flood the table. The kinds are stable names other parts read
(docs/decisions/0740-audited-reads-and-denials.md).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django_tenants.utils import get_public_schema_name
from rest_framework import exceptions as api_exceptions

from ebok.accounts import audit

DENIED = "access.denied"
FORBIDDEN = "forbidden"  # 403: a role or permission check failed
NOT_YOURS = "not_yours"  # 404 from an object-level check: another person's premises or document
WRONG_AREA = "wrong_area"  # 404: an account of another kind in a console (a resident in /panel/)
METHOD = "method"  # 405: a method the address does not take
TOKEN_REFUSED = "token_refused"  # noqa: S105 - 401: an unknown, expired or foreign API token
KINDS = (FORBIDDEN, NOT_YOURS, WRONG_AREA, METHOD, TOKEN_REFUSED)

PATH_LIMIT = 200
logger = logging.getLogger("ebok.access")


class DeniedAsNotFound(Http404):
    """A refusal answered as 404, so that it does not reveal what exists; unlike
    any other 404 (a mistyped address) it is logged as a denial."""

    def __init__(self, kind: str = NOT_YOURS):
        super().__init__()
        self.denial_kind = kind


def kind_of(exception) -> str | None:
    """Which denial an exception is, if it is one."""
    declared = getattr(exception, "denial_kind", None)
    if declared is not None or isinstance(exception, Http404):
        return declared  # "" for a refusal that is no access-control failure
    if isinstance(exception, PermissionDenied | api_exceptions.PermissionDenied):
        return FORBIDDEN
    if isinstance(exception, api_exceptions.MethodNotAllowed):
        return METHOD
    if isinstance(exception, api_exceptions.AuthenticationFailed):
        return TOKEN_REFUSED
    return None


def _minute() -> int:
    return int(time.time() // 60)


def _counted(key: str) -> int:
    cache.add(key, 0, timeout=120)
    return cache.incr(key)


def _is_milestone(seen: int) -> bool:
    return seen == 10 ** (len(str(seen)) - 1)  # 1, 10, 100, …


def record(request, kind: str) -> None:
    """Log one refusal of ``request``; once per request, whoever notices it first."""
    if getattr(request, "denial_recorded", False):
        return
    request.denial_recorded = True
    if not kind:
        return
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    address = audit.client_ip(request) or ""
    path = request.path[:PATH_LIMIT]
    logger.warning(
        "access denied: %s %s %s",
        kind,
        request.method,
        path,
        extra={
            "kind": kind,
            "method": request.method,
            "path": path,
            "account": audit.login_of(actor),
            "client": address,
        },
    )
    minute = _minute()
    seen = _counted(f"denied:{kind}:{audit.login_of(actor)}:{address}:{minute}")
    if not _is_milestone(seen):
        return
    if _counted(f"denied:*:{minute}") > settings.DENIALS_AUDITED_PER_MINUTE:
        return
    details = {"kind": kind, "method": request.method[:10], "path": path, "seen": seen}
    if connection.schema_name == get_public_schema_name():
        from tenants import audit as operator_audit

        operator_audit.record(DENIED, actor=actor, request=request, **details)
    else:
        audit.record(DENIED, actor=actor, request=request, **details)


def record_exception(request, exception) -> None:
    """Log ``exception`` if it is a denial (Django's views and the API's handler)."""
    kind = kind_of(exception)
    if kind is not None:
        record(request, kind)
