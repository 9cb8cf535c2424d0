"""Notices to the account holder after a change to how they sign in (ASVS 2.2.3,
2.5.5, 2.8.5): one function per event, called inside the service's transaction.

The mail leaves only after that transaction commits (a rolled-back change sends
nothing), through a Celery task that runs in the account's schema, so a slow or
absent mail server never delays or breaks the change itself. A notice names the
event, the time and the cooperative, and says whom to contact; it never holds a
password, code or token. See docs/decisions/0710-notices-after-commit.md.
"""

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_tenants.utils import get_public_schema_name

from ebok.accounts import audit
from ebok.accounts.models import User
from ebok.accounts.tasks import send_notice


@dataclass(frozen=True)
class Notice:
    subject: str
    event: str  # with %(login)s and %(time)s
    advice: str


_IF_NOT_YOU = gettext_lazy(
    "If it was you, there is nothing more to do. If it was not you, someone may know "
    "your password: contact the office of your cooperative at once."
)
_IF_NOT_ASKED = gettext_lazy("If you did not ask the office for this, contact it at once.")

NOTICES = {
    "password_changed": Notice(
        gettext_lazy("Your e-BOK password was changed"),
        gettext_lazy("The password of your e-BOK account %(login)s was changed on %(time)s."),
        _IF_NOT_YOU,
    ),
    "password_reset": Notice(
        gettext_lazy("A new e-BOK password was issued"),
        gettext_lazy(
            "The office issued a new password for your e-BOK account %(login)s on %(time)s. "
            "The previous password no longer works and every session was ended."
        ),
        _IF_NOT_ASKED,
    ),
    "two_factor_enabled": Notice(
        gettext_lazy("Two-step verification was turned on"),
        gettext_lazy(
            "Two-step verification was turned on for your e-BOK account %(login)s on %(time)s."
        ),
        _IF_NOT_YOU,
    ),
    "two_factor_disabled": Notice(
        gettext_lazy("Two-step verification was turned off"),
        gettext_lazy(
            "Two-step verification was turned off for your e-BOK account %(login)s "
            "on %(time)s: a password alone now opens it."
        ),
        _IF_NOT_YOU,
    ),
    "two_factor_reset": Notice(
        gettext_lazy("Your authenticator was removed"),
        gettext_lazy(
            "The office removed the authenticator and recovery codes of your e-BOK account "
            "%(login)s on %(time)s. You will set up two-step verification again."
        ),
        _IF_NOT_ASKED,
    ),
    "security_key_added": Notice(
        gettext_lazy("A security key was added"),
        gettext_lazy(
            "A security key was added to your e-BOK account %(login)s on %(time)s: it can "
            "now be used instead of a code from the authenticator app."
        ),
        _IF_NOT_YOU,
    ),
    "security_key_removed": Notice(
        gettext_lazy("A security key was removed"),
        gettext_lazy("A security key was removed from your e-BOK account %(login)s on %(time)s."),
        _IF_NOT_YOU,
    ),
    "new_device_login": Notice(
        gettext_lazy("A sign-in from a new browser"),
        gettext_lazy(
            "Your e-BOK account %(login)s was signed in to on %(time)s from a browser it "
            "had not been used in before."
        ),
        _IF_NOT_YOU,
    ),
    "recovery_code_used": Notice(
        gettext_lazy("A recovery code was used"),
        gettext_lazy(
            "A recovery code was used to sign in to your e-BOK account %(login)s on %(time)s."
        ),
        _IF_NOT_YOU,
    ),
    "recovery_codes_renewed": Notice(
        gettext_lazy("New recovery codes were made"),
        gettext_lazy(
            "New recovery codes were made for your e-BOK account %(login)s on %(time)s; "
            "the earlier ones no longer work."
        ),
        _IF_NOT_YOU,
    ),
    "code_replayed": Notice(
        gettext_lazy("A used one-time code was refused"),
        gettext_lazy(
            "A one-time code of your authenticator that had already been used was entered "
            "for your e-BOK account %(login)s on %(time)s, and refused."
        ),
        gettext_lazy(
            "Someone who knows your password may have tried to sign in. If it was not you, "
            "change your password and contact the office of your cooperative at once."
        ),
    ),
}


# --- What the services call (inside their transaction) ---------------------------------


def notify_password_changed(user: User) -> None:
    _queue(user, "password_changed")


def notify_password_reset(user: User) -> None:
    _queue(user, "password_reset", by_office=True)


def notify_two_factor_enabled(user: User) -> None:
    _queue(user, "two_factor_enabled")


def notify_two_factor_disabled(user: User) -> None:
    _queue(user, "two_factor_disabled")


def notify_two_factor_reset(user: User) -> None:
    _queue(user, "two_factor_reset", by_office=True)


def notify_security_key_added(user: User) -> None:
    _queue(user, "security_key_added")


def notify_security_key_removed(user: User) -> None:
    _queue(user, "security_key_removed")


def notify_recovery_code_used(user: User, *, remaining: int) -> None:
    _queue(user, "recovery_code_used", remaining=remaining)


def notify_recovery_codes_renewed(user: User) -> None:
    _queue(user, "recovery_codes_renewed")


def notify_new_device_login(user: User, *, device: str, address: str) -> None:
    _queue(user, "new_device_login", device=device, address=address)


def notify_code_replayed(user: User) -> None:
    _queue(user, "code_replayed")


def _queue(user: User, kind: str, *, by_office: bool = False, **details) -> None:
    """Send the notice once the current transaction commits. The holder's own actions
    are told in the language they were using; the office's in the default one."""
    if not user.email:
        _audit("notice.skipped", user, notice=kind, reason="no e-mail address")
        return
    language = settings.LANGUAGE_CODE if by_office else translation.get_language()
    schema = connection.schema_name
    message = {
        "user_id": user.pk,
        "kind": kind,
        "at": timezone.now().isoformat(),
        "language": language or settings.LANGUAGE_CODE,
        "details": details,
        "expected_schema": schema,
    }
    # robust: a broker that is down is logged; the committed change stands.
    transaction.on_commit(
        lambda: send_notice.apply_async(kwargs=message, headers={"_schema_name": schema}),
        robust=True,
    )


def _audit(action: str, user: User, **details) -> None:
    if connection.schema_name == get_public_schema_name():
        from tenants import audit as operator_audit

        operator_audit.record(action, target=user.login, **details)
    else:
        audit.record(action, target=user, **details)


# --- What the worker does ----------------------------------------------------------------


def deliver(*, user_id: int, kind: str, at: str, language: str, details: dict) -> bool:
    """Render and send one notice to the account's current address; ``False`` when the
    account is gone (erased) or has no address any more."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return False
    cooperative = _cooperative()
    with translation.override(language):
        message = _message(NOTICES[kind], user, cooperative, _time_text(at), details)
    message.send()
    _audit("notice.sent", user, notice=kind)
    return True


def _cooperative():
    return None if connection.schema_name == get_public_schema_name() else connection.tenant


def _time_text(at: str) -> str:
    """24.11.2026 14:05 in the platform's time zone (Polish format in every language)."""
    return timezone.localtime(datetime.fromisoformat(at)).strftime("%d.%m.%Y %H:%M")


def _message(notice: Notice, user, cooperative, time_text: str, details: dict):
    paragraphs = [notice.event % {"login": user.login, "time": time_text}]
    if "remaining" in details:
        count = details["remaining"]
        paragraphs.append(
            ngettext(
                "You have %(count)d unused recovery code left.",
                "You have %(count)d unused recovery codes left.",
                count,
            )
            % {"count": count}
        )
    if "device" in details:
        paragraphs.append(
            _("Browser: %(device)s, address: %(address)s.")
            % {"device": details["device"], "address": details["address"] or "?"}
        )
    paragraphs.append(str(notice.advice))
    context = {
        "subject": str(notice.subject),
        "paragraphs": paragraphs,
        "cooperative": cooperative,
        "contact": _contact_lines(cooperative),
    }
    subject = f"{notice.subject} — {cooperative.name}" if cooperative else str(notice.subject)
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/email/notice.txt", context),
        from_email=_sender(cooperative),
        to=[user.email],
        reply_to=[cooperative.contact_email] if cooperative and cooperative.contact_email else [],
        headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no auto-replies, please
    )
    message.attach_alternative(render_to_string("accounts/email/notice.html", context), "text/html")
    return message


def _contact_lines(cooperative) -> list[tuple[str, str]]:
    if cooperative is None:
        return []
    fields = [
        (_("Room"), cooperative.contact_room),
        (_("Address"), cooperative.contact_address),
        (_("Phone"), cooperative.contact_phone),
        (_("E-mail"), cooperative.contact_email),
        (_("Office hours"), cooperative.contact_hours),
    ]
    return [(label, value) for label, value in fields if value]


def _sender(cooperative) -> str:
    """The platform's address under the cooperative's name, where the mail is about one."""
    if cooperative is None:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((cooperative.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
