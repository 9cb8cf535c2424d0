"""Writes on accounts, one verb each. The cooperative never sees, stores or can
recover a resident's password: it can only issue a new random one."""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ebok.accounts import audit
from ebok.accounts.models import User
from ebok.accounts.passwords import generate_issued_password
from ebok.models import ApiToken, AuditEvent, ErasureRecord, LoginRecord, Person


class AccountError(Exception):
    """A lifecycle step that cannot be done, with a message for staff."""


@dataclass(frozen=True)
class IssuedCredentials:
    user: User
    password: str  # shown once, never stored in clear


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
def grant_access(*, person_source_id: str, actor=None, request=None) -> IssuedCredentials:
    """Create the e-BOK account of a person known from the accounting data."""
    person = Person.objects.filter(source_id=person_source_id).first()
    if person is None:
        raise AccountError(_("No person %(id)s in the accounting data.") % {"id": person_source_id})
    if User.objects.filter(person_source_id=person_source_id).exists():
        raise AccountError(
            _("Person %(id)s already has an e-BOK account.") % {"id": person_source_id}
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
    audit.record("account.granted", actor=actor, target=user, request=request)
    return IssuedCredentials(user=user, password=password)


@transaction.atomic
def create_staff(*, login: str, role: str, display_name: str = "", actor=None, request=None):
    if role not in User.Role.values:
        raise AccountError(_("Unknown role %(role)s.") % {"role": role})
    if User.objects.filter(login=login).exists():
        raise AccountError(_("The login %(login)s is taken.") % {"login": login})
    user = User(login=login, kind=User.Kind.STAFF, role=role, display_name=display_name)
    password = _issue_password(user)
    user.save()
    audit.record("staff.created", actor=actor, target=user, request=request, role=role)
    return IssuedCredentials(user=user, password=password)


def end_sessions(user: User, *, keep_session_key: str | None = None) -> None:
    """End every session and API token of the account at once."""
    user.session_generation += 1
    user.save(update_fields=["session_generation"])
    ApiToken.objects.filter(user=user).delete()
    keys = (
        LoginRecord.objects.filter(user=user)
        .exclude(session_key="")
        .values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=list(keys)).exclude(
        session_key=keep_session_key
    ).delete()


@transaction.atomic
def regenerate_password(*, user: User, actor=None, request=None) -> str:
    password = _issue_password(user)
    user.save()
    end_sessions(user)
    audit.record("account.password_regenerated", actor=actor, target=user, request=request)
    return password


@transaction.atomic
def block_account(*, user: User, reason: str, note: str = "", actor=None, request=None) -> None:
    if reason not in User.BlockReason.values:
        raise AccountError(_("Unknown reason %(reason)s.") % {"reason": reason})
    user.blocked_at = timezone.now()
    user.block_reason = reason
    user.block_note = note[:300]
    user.save(update_fields=["blocked_at", "block_reason", "block_note"])
    end_sessions(user)
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


@transaction.atomic
def erase_account(
    *, user: User, request_reference: str, request_date: date, actor=None, request=None
) -> ErasureRecord:
    """On the owner's written request: block, then remove the account and its
    personal data from the portal, keeping only a minimal erasure record."""
    if not request_reference.strip():
        raise AccountError(_("The reference of the written request is required."))
    if user.kind != User.Kind.RESIDENT:
        raise AccountError(_("Only residents' accounts are erased on request."))
    block_account(user=user, reason=User.BlockReason.OWNER_REQUEST, actor=actor, request=request)
    record = ErasureRecord.objects.create(
        erased_by=getattr(actor, "login", "") or "system",
        request_date=request_date,
        request_reference=request_reference.strip()[:100],
        person_source_id=user.person_source_id,
    )
    pseudonym = f"[erased #{record.pk}]"
    AuditEvent.objects.filter(target_login=user.login).update(
        target_login=pseudonym, ip_address=None
    )
    AuditEvent.objects.filter(actor_login=user.login).update(actor_login=pseudonym, ip_address=None)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username=user.login).delete()
    user.delete()  # cascades to tokens and login history
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
    """The resident replaces their password; from now on only they know it."""
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
    keep = (
        request.session.session_key if request is not None and hasattr(request, "session") else None
    )
    end_sessions(user, keep_session_key=keep)
    audit.record("account.password_changed", actor=user, target=user, request=request)


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
