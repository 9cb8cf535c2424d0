"""The account's active sessions and API tokens, so that its owner sees where
they are logged in and ends what they do not recognise (ASVS 3.3.4).

The index account → sessions is the login history (``LoginRecord`` keeps each
login's session key, address and browser); a record is an active session while
its stored session still exists, still belongs to the account and still
carries its current auth hash. "Last seen" is the idle clock the session
middleware already keeps in the session, so listing costs no write per request.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone
from django.utils.translation import gettext as _
from ua_parser import parse

from ebok.accounts import audit
from ebok.accounts.models import User
from ebok.models import ApiToken, LoginRecord
from ebok_platform.middleware import SessionLifetimeMiddleware


@dataclass(frozen=True)
class ActiveSession:
    id: int  # the login record's, never the session key (a bearer secret)
    device: str
    ip_address: str | None
    started: datetime
    last_seen: datetime
    current: bool


def _store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def device_name(user_agent: str) -> str:
    """In plain words, e.g. "Firefox on Windows", "Mobile Safari on iOS (iPhone)"."""
    found = parse(user_agent or "")
    browser = found.user_agent.family if found.user_agent else ""
    system = found.os.family if found.os else ""
    device = found.device.family if found.device and found.device.family != "Other" else ""
    name = browser if browser and browser != "Other" else _("Unknown browser")
    if system and system != "Other":
        name = _("%(browser)s on %(system)s") % {"browser": name, "system": system}
    return f"{name} ({device})" if device and device not in name else name


def _recent_logins(user: User):
    # Sessions never outlive the absolute limit: older logins cannot be active.
    since = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return LoginRecord.objects.filter(user=user, at__gte=since).exclude(session_key="")


def _alive(user: User, data: dict) -> bool:
    return (
        data.get(SESSION_KEY) == str(user.pk)
        and data.get(HASH_SESSION_KEY) == user.get_session_auth_hash()
    )


def active_sessions(user: User, current_key: str | None) -> list[ActiveSession]:
    """The account's sessions that still work, the newest first."""
    found = []
    for record in _recent_logins(user).order_by("-at"):
        data = _store(record.session_key).load()
        if not _alive(user, data):
            continue
        seen = data.get(SessionLifetimeMiddleware.SEEN)
        found.append(
            ActiveSession(
                id=record.pk,
                device=device_name(record.user_agent),
                ip_address=record.ip_address,
                started=record.at,
                last_seen=datetime.fromtimestamp(seen, tz=UTC) if seen else record.at,
                current=record.session_key == current_key,
            )
        )
    return found


def active_tokens(user: User):
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at")


def end_session(*, user: User, record_id: int, request=None) -> bool:
    """End one session of the account (not this one: that is logging out).
    ``False`` when there is no such session of this account."""
    record = _recent_logins(user).filter(pk=record_id).first()
    current = getattr(getattr(request, "session", None), "session_key", None)
    if record is None or record.session_key == current:
        return False
    _store().delete(record.session_key)
    record.session_key = ""
    record.save(update_fields=["session_key"])
    audit.record(
        "session.ended", actor=user, target=user, request=request, started=record.at.isoformat()
    )
    return True


def revoke_token(*, user: User, token_id: int, request=None) -> bool:
    """Revoke one of the account's API tokens; ``False`` when it has no such token."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if deleted:
        audit.record("api.token_revoked", actor=user, target=user, request=request)
    return bool(deleted)
