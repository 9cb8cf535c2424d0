"""Writes on accounts, one verb each. The cooperative never sees, stores or can
recover a resident's password: it can only issue a new random one."""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ebok.accounts import audit, notifications, two_factor
from ebok.accounts.models import User
from ebok.accounts.passwords import generate_issued_password
from ebok.models import ApiToken, AuditEvent, ErasureRecord, LoginRecord, Person

STAFF_LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(Exception):
    """A lifecycle step that cannot be done, with a message for staff."""


@dataclass(frozen=True)
class IssuedCredentials:
    user: User
    password: str  # shown once, never stored in clear

    def __repr__(self):  # keeps the password out of tracebacks and debug output
        return f"IssuedCredentials(user={self.user.login!r}, password=<hidden>)"


def _issue_password(user: User) -> str:
    password = generate_issued_password()
    user.set_password(password)
    user.must_change_password = True
    user.password_issued_at = timezone.now()
    return password


def _login_for(person: Person) -> str:
    """A readable, unique login: surname (ASCII) + four digits, e.g. ``kowalski.4821``."""
    ascii_name = (
        unicodedata.normalize("NFKD", person.last_name.replace("ł", "l").replace("Ł", "L"))
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    stem = re.sub(r"[^a-z]+", "", ascii_name)[:16] or "mieszkaniec"
    while True:
        login = f"{stem}.{secrets.randbelow(9000) + 1000}"
        if not User.objects.filter(login=login).exists():
            return login


@transaction.atomic
def grant_access(
    *, person_source_id: str, confirm_after_erasure: bool = False, actor=None, request=None
) -> IssuedCredentials:
    """Create the e-BOK account of a person known from the accounting data.

    A person whose earlier account was erased on request gets a new one only when
    staff confirm it (a new written request): never by accident.
    """
    person = Person.objects.filter(source_id=person_source_id).first()
    if person is None:
        raise AccountError(_("No person %(id)s in the accounting data.") % {"id": person_source_id})
    if User.objects.filter(person_source_id=person_source_id).exists():
        raise AccountError(
            _("Person %(id)s already has an e-BOK account.") % {"id": person_source_id}
        )
    erased = ErasureRecord.objects.filter(person_source_id=person_source_id).exists()
    if erased and not confirm_after_erasure:
        raise AccountError(
            _(
                "The e-BOK account of person %(id)s was erased on the owner's request. "
                "Confirm that a new request was received to grant access again."
            )
            % {"id": person_source_id}
        )
    user = User(
        login=_login_for(person),
        kind=User.Kind.RESIDENT,
        person_source_id=person.source_id,
        display_name=person.full_name,
        email=person.email,
        phone=person.phone,
    )
    password = _issue_password(user)
    user.save()
    audit.record(
        "account.granted",
        actor=actor,
        target=user,
        request=request,
        person=person.source_id,
        **({"after_erasure": True} if erased else {}),
    )
    return IssuedCredentials(user=user, password=password)


def _require_role(role: str) -> None:
    if role not in User.Role.values:
        raise AccountError(_("Unknown role %(role)s.") % {"role": role})


@transaction.atomic
def create_staff(
    *, login: str, role: str, display_name: str = "", email: str = "", actor=None, request=None
):
    login = login.strip().lower()
    _require_role(role)
    if not STAFF_LOGIN_PATTERN.match(login):
        raise AccountError(
            _("A login has 2–64 characters: small letters, digits, dot, dash or underscore.")
        )
    if User.objects.filter(login=login).exists():
        raise AccountError(_("The login %(login)s is taken.") % {"login": login})
    try:
        if email.strip():
            validate_email(email.strip())
    except ValidationError:
        raise AccountError(_("%(email)s is not an e-mail address.") % {"email": email}) from None
    # The e-mail address receives the notices about the account's sign-in (decision 0710).
    user = User(
        login=login,
        kind=User.Kind.STAFF,
        role=role,
        display_name=display_name.strip(),
        email=email.strip(),
    )
    password = _issue_password(user)
    user.save()
    audit.record("staff.created", actor=actor, target=user, request=request, role=role)
    return IssuedCredentials(user=user, password=password)


def _other_active_admins(user: User):
    return User.objects.filter(
        kind=User.Kind.STAFF, role=User.Role.ADMIN, blocked_at__isnull=True
    ).exclude(pk=user.pk)


def _keep_an_admin(user: User) -> None:
    """A cooperative never loses its last active administrator."""
    is_admin = user.kind == User.Kind.STAFF and user.role == User.Role.ADMIN
    if is_admin and not _other_active_admins(user).exists():
        raise AccountError(_("This is the last active administrator."))


@transaction.atomic
def change_staff_role(*, user: User, role: str, actor=None, request=None) -> None:
    _require_role(role)
    if user.kind != User.Kind.STAFF:
        raise AccountError(_("Only staff accounts have roles."))
    if role == user.role:
        return
    if role != User.Role.ADMIN:
        _keep_an_admin(user)
    previous, user.role = user.role, role
    user.save(update_fields=["role"])
    audit.record(
        "staff.role_changed",
        actor=actor,
        target=user,
        request=request,
        role=role,
        previous=previous,
    )


def end_sessions(user: User, *, keep_session_key: str | None = None) -> None:
    """End every session and API token of the account at once.

    Bumping the generation invalidates every session's auth hash; the stored
    sessions themselves are deleted too (from the cache and the database).
    """
    user.session_generation += 1
    user.save(update_fields=["session_generation"])
    ApiToken.objects.filter(user=user).delete()
    keys = set(
        LoginRecord.objects.filter(user=user)
        .exclude(session_key="")
        .values_list("session_key", flat=True)
    )
    keys.discard(keep_session_key)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for key in keys:
        store.delete(key)


@transaction.atomic
def regenerate_password(*, user: User, actor=None, request=None) -> IssuedCredentials:
    password = _issue_password(user)
    user.save()
    end_sessions(user)
    audit.record("account.password_regenerated", actor=actor, target=user, request=request)
    notifications.notify_password_reset(user)
    # A new password handed over in person also resets two-factor: the usual reason
    # to come for one is a lost phone. The account enrols afresh at its next login.
    two_factor.remove_devices(user, actor=actor or "system", request=request)
    return IssuedCredentials(user=user, password=password)


def _block(user: User, reason: str, note: str) -> None:
    if reason not in User.BlockReason.values:
        raise AccountError(_("Unknown reason %(reason)s.") % {"reason": reason})
    user.blocked_at = timezone.now()
    user.block_reason = reason
    user.block_note = note.strip()[:300]
    user.save(update_fields=["blocked_at", "block_reason", "block_note"])
    end_sessions(user)


@transaction.atomic
def block_account(*, user: User, reason: str, note: str = "", actor=None, request=None) -> None:
    if user.blocked_at is not None:
        raise AccountError(_("The account %(login)s is already blocked.") % {"login": user.login})
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise AccountError(_("You cannot block your own account."))
    _keep_an_admin(user)
    _block(user, reason, note)
    audit.record("account.blocked", actor=actor, target=user, request=request, reason=reason)


@transaction.atomic
def unblock_account(*, user: User, actor=None, request=None) -> None:
    if user.blocked_at is None:
        raise AccountError(_("The account %(login)s is not blocked.") % {"login": user.login})
    user.blocked_at = None
    user.block_reason = ""
    user.block_note = ""
    user.save(update_fields=["blocked_at", "block_reason", "block_note"])
    audit.record("account.unblocked", actor=actor, target=user, request=request)


def _pseudonymise_audit(login: str, pseudonym: str) -> None:
    """The audit log keeps what staff did, but no longer who the person was.

    The address of a request is the person's when they acted themselves (or
    an anonymous login attempt was made with their login); staff's stays.
    """
    events = AuditEvent.objects.filter(Q(target_login=login) | Q(actor_login=login))
    with audit.rewriting(audit.ERASURE):  # the one sanctioned UPDATE of the audit log
        events.filter(Q(actor_login=login) | Q(actor_login="")).update(ip_address=None)
        AuditEvent.objects.filter(target_login=login).update(target_login=pseudonym)
        AuditEvent.objects.filter(actor_login=login).update(actor_login=pseudonym)


@transaction.atomic
def erase_account(
    *, user: User, request_reference: str, request_date: date, actor=None, request=None
) -> ErasureRecord:
    """On the owner's written request: block, then remove the account and its
    personal data from the portal, keeping only a minimal erasure record.

    Gone: the account row (login, name, e-mail, phone, consents to the rules,
    last login), its login history, sessions, API tokens, OTP devices and the
    login-throttling records; the audit log is pseudonymised.
    """
    reference = request_reference.strip()
    if not reference:
        raise AccountError(_("The reference of the written request is required."))
    if request_date > timezone.localdate():
        raise AccountError(_("The date of the written request cannot be in the future."))
    if user.kind != User.Kind.RESIDENT:
        raise AccountError(_("Only residents' accounts are erased on request."))
    if user.blocked_at is None:
        _block(user, User.BlockReason.OWNER_REQUEST, "")
        audit.record(
            "account.blocked",
            actor=actor,
            target=user,
            request=request,
            reason=User.BlockReason.OWNER_REQUEST,
        )
    else:
        end_sessions(user)
    record = ErasureRecord.objects.create(
        erased_by=audit.login_of(actor) or "system",
        request_date=request_date,
        request_reference=reference[:100],
        person_source_id=user.person_source_id,
    )
    pseudonym = f"[erased #{record.pk}]"
    _pseudonymise_audit(user.login, pseudonym)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username=user.login).delete()
    user.delete()  # cascades to tokens, login history and OTP devices
    audit.record(
        "account.erased",
        actor=actor,
        target=pseudonym,
        request=request,
        reference=record.request_reference,
    )
    return record


@transaction.atomic
def change_password(*, user: User, current: str, new: str, request=None) -> None:
    """The account holder replaces their password; from now on only they know it."""
    if not user.check_password(current):
        raise ValidationError({"current": [_("The current password is not correct.")]})
    if new == current:
        raise ValidationError({"new": [_("The new password must differ from the current one.")]})
    try:
        validate_password(new, user)
    except ValidationError as error:
        raise ValidationError({"new": error.messages}) from error
    user.set_password(new)
    user.must_change_password = False
    user.password_issued_at = None
    user.save()
    own_session = getattr(getattr(request, "user", None), "pk", None) == user.pk
    end_sessions(user, keep_session_key=request.session.session_key if own_session else None)
    if own_session:
        _keep_current_session(user, request)
    audit.record("account.password_changed", actor=user, target=user, request=request)
    notifications.notify_password_changed(user)


def _keep_current_session(user: User, request) -> None:
    """The session that changed the password stays logged in (under a new key)."""
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    LoginRecord.objects.filter(user=user, session_key=old_key).update(
        session_key=request.session.session_key or ""
    )


@transaction.atomic
def accept_rules(*, user: User, version: int, current_version: int, request=None) -> None:
    if version != current_version:
        raise ValidationError(
            {"version": [_("Accept the current rules, version %(v)s.") % {"v": current_version}]}
        )
    user.rules_accepted_version = version
    user.rules_accepted_at = timezone.now()
    user.save(update_fields=["rules_accepted_version", "rules_accepted_at"])
    audit.record(
        "account.rules_accepted", actor=user, target=user, request=request, version=version
    )


def record_login(*, user: User, request) -> None:
    LoginRecord.objects.create(
        user=user,
        ip_address=audit.client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        session_key=request.session.session_key or "",
    )


def issue_api_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token for the REST API; only its SHA-256 is stored, the raw
    value is returned once. The account's expired tokens go at the same time."""
    from ebok.api.authentication import hash_token

    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        expires_at=now + timedelta(hours=settings.API_TOKEN_HOURS),
    )
    audit.record("api.token_issued", actor=user, target=user)
    return raw, token


def revoke_api_token(token: ApiToken) -> None:
    user = token.user
    token.delete()
    audit.record("api.token_revoked", actor=user, target=user)
