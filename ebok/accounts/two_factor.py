"""Two-factor authentication (TOTP, RFC 6238) with one-time recovery codes.

Mandatory for cooperative staff and platform operators, optional for residents.
A password login leaves the session *unverified*; the console's access checks
send it here until a code from the authenticator (or a recovery code) verifies
it. Devices live beside the account: in the cooperative's schema, or for
operators in the public schema. See docs/decisions/0701-two-factor.md.
"""

import re
import secrets
from base64 import b32encode

import segno
from django.conf import settings
from django.db import connection, transaction
from django.utils.crypto import salted_hmac
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_tenants.utils import get_public_schema_name

from ebok.accounts import audit, notifications
from ebok.accounts.models import User
from ebok.keys.models import EncryptedTOTPDevice as TOTPDevice

RECOVERY_CODES = 10
# 120 random bits a code (ASVS 2.6.3 asks 112 for lookup secrets): 24 base32 letters,
# shown in groups of four.
RECOVERY_CODE_BYTES = 15
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"
TOTP_CODE = re.compile(r"^[0-9]{6}$")


def is_mandatory(user) -> bool:
    return user.kind in (User.Kind.STAFF, User.Kind.OPERATOR)


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def verification_pending(user) -> bool:
    """A logged-in account that must still prove its second factor in this session."""
    if not user.is_authenticated or user.is_verified():
        return False
    return is_mandatory(user) or has_authenticator(user)


def _record(action: str, user, request, **details) -> None:
    if connection.schema_name == get_public_schema_name():
        from tenants import audit as operator_audit

        operator_audit.record(action, actor=user, request=request, **details)
    else:
        audit.record(action, actor=user, target=user, request=request, **details)


# --- Enrolment ---------------------------------------------------------------------------


def pending_authenticator(user) -> TOTPDevice:
    """The not yet confirmed authenticator being set up (the same one until confirmed,
    so reloading the page does not change the secret already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an authenticator app."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code in a data: URI (allowed by the CSP's img-src)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def _recovery_digest(user, code: str, secret: str | None = None) -> str:
    """What is stored of a recovery code: a keyed hash, salted per account (the
    codes themselves exist only on the page that showed them)."""
    return salted_hmac(
        "ebok.accounts.recovery", f"{user.pk}:{code}", secret=secret, algorithm="sha256"
    ).hexdigest()[:16]


def _stored_recovery_digest(device: StaticDevice, user, code: str) -> str:
    """The digest to spend: under SECRET_KEY, or under a key of SECRET_KEY_FALLBACKS
    for codes issued before a rotation (one lookup, so a code never counts as
    several failures)."""
    digests = [
        _recovery_digest(user, code, secret)
        for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    ]
    stored = device.token_set.filter(token__in=digests).values_list("token", flat=True)
    return stored.first() or digests[0]


def _new_recovery_code() -> str:
    letters = b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode("ascii").lower()
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=_recovery_digest(user, _normalised(code)))
        for code in codes
    )
    return codes


@transaction.atomic
def confirm_authenticator(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with its first code: the session is verified and
    the recovery codes are returned (to be shown once). ``None``: wrong code."""
    user = request.user
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_normalised(code)):
        _record("otp.enrolment_failed", user, request)
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    otp_login(request, device)
    _record("otp.enabled", user, request)
    notifications.notify_two_factor_enabled(user)
    return codes


@transaction.atomic
def renew_recovery_codes(request) -> list[str]:
    """Ten new recovery codes for the account's authenticator (shown once); the
    unused ones it had stop working."""
    user = request.user
    codes = _new_recovery_codes(user)
    _record("otp.recovery_codes_renewed", user, request)
    notifications.notify_recovery_codes_renewed(user)
    return codes


# --- Verification ------------------------------------------------------------------------


def _normalised(code: str) -> str:
    # Spaces and the dashes between a recovery code's groups are not part of it.
    return "".join(str(code).replace("-", " ").split()).lower()[:32]


def check_code(user, code: str):
    """The device that accepts ``code`` (an authenticator's code or an unused
    recovery code, which is spent), or ``None``. Failures count towards each
    device's own throttling (django-otp doubles the wait after every failure)."""
    code = _normalised(code)
    if not code:
        return None
    model = TOTPDevice if TOTP_CODE.match(code) else StaticDevice
    with transaction.atomic():
        devices = list(model.objects.devices_for_user(user, confirmed=True).select_for_update())
        for device in devices:
            token = code if model is TOTPDevice else _stored_recovery_digest(device, user, code)
            if device.verify_token(token):
                if model is StaticDevice:
                    remaining = device.token_set.count()
                    notifications.notify_recovery_code_used(user, remaining=remaining)
                return device
        if model is TOTPDevice and any(_replayed(device, code) for device in devices):
            _record("otp.replayed", user, None)
            notifications.notify_code_replayed(user)
    return None


def _replayed(device, code: str) -> bool:
    """A code the authenticator did show, for a time step already used (django-otp
    accepts each step once): someone is reusing a code they saw (ASVS 2.8.5)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return totp.verify(int(code), device.tolerance) and totp.t() <= device.last_t


def verify(request, code: str) -> bool:
    """Verify this session with a code; recorded in the audit log either way."""
    user = request.user
    device = check_code(user, code)
    if device is None:
        _record("otp.failed", user, request)
        return False
    otp_login(request, device)
    if isinstance(device, StaticDevice):
        _record("otp.recovery_code_used", user, request, remaining=device.token_set.count())
    else:
        _record("otp.verified", user, request)
    return True


def remove_devices(user, *, actor=None, request=None) -> None:
    """Turn two-factor off (a resident's choice), or reset it so that the account
    enrols afresh at its next login (staff who lost their authenticator)."""
    devices = list(devices_for_user(user, confirmed=None))
    if not devices:
        return
    for device in devices:
        device.delete()
    if actor is None or getattr(actor, "pk", None) == user.pk:
        _record("otp.disabled", user, request)
        notifications.notify_two_factor_disabled(user)
    elif connection.schema_name != get_public_schema_name():
        audit.record("otp.reset", actor=actor, target=user, request=request)
        notifications.notify_two_factor_reset(user)


@transaction.atomic
def reset_operator_devices(user: User, *, reason: str) -> int:
    """A platform operator who lost their authenticator and recovery codes enrols again
    at their next sign-in. Run on the server by whoever may create operators: identity
    is proven as at enrolment (ASVS 2.5.7). Returns the number of devices removed."""
    from tenants import audit as operator_audit

    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    operator_audit.record("otp.reset", operator=user.login, reason=reason, devices=len(devices))
    notifications.notify_two_factor_reset(user)
    return len(devices)
