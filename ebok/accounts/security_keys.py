"""Security keys and passkeys (WebAuthn, FIDO2) as a second factor beside the
authenticator app (ASVS 2.3.2). The server side is py_webauthn's.

The relying party is the request's own host: each cooperative's subdomain is a
relying party of its own, so a key registered on one cooperative's host is of no
use on another's (the key is not even stored there: every cooperative has its own
schema). Challenges live in the session, are spent by their first use and expire
after ``CHALLENGE_SECONDS``. Each use must raise the key's signature counter; a
counter that does not grow means a cloned key, refused and audited.
See docs/decisions/0790-security-keys.md.
"""

import json
import secrets
import time

from django.db import transaction
from django.http.request import split_domain_port
from django.utils import timezone
from django_otp import login as otp_login
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ebok.accounts import notifications, two_factor
from ebok.accounts.models import SecurityKey

CHALLENGE_SECONDS = 120
CHALLENGE_KEY = "_webauthn_challenge"
REGISTER = "register"
AUTHENTICATE = "authenticate"
NAME_MAX_LENGTH = 64
MAX_KEYS = 10


class Refused(Exception):
    """A registration or an assertion that does not hold; the message is for the log."""


def relying_party(request) -> tuple[str, str]:
    """(RP id, origin): the host the browser talks to, without its port, and the
    origin that must appear in what the authenticator signed."""
    host = request.get_host()
    return split_domain_port(host)[0], f"{request.scheme}://{host}"


def keys_of(user):
    return SecurityKey.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def has_keys(user) -> bool:
    return keys_of(user).exists()


def may_register(user) -> bool:
    """Keys come beside an authenticator app, in a session that proved it."""
    return user.is_verified() and two_factor.has_authenticator(user)


def _issue_challenge(request, purpose: str) -> bytes:
    challenge = secrets.token_bytes(32)
    request.session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "value": bytes_to_base64url(challenge),
        "at": time.time(),
    }
    return challenge


def _take_challenge(request, purpose: str) -> bytes:
    """The session's challenge for ``purpose``, spent now whatever follows."""
    stored = request.session.pop(CHALLENGE_KEY, None)
    if not isinstance(stored, dict) or stored.get("purpose") != purpose:
        raise Refused("no challenge issued")
    if time.time() - stored.get("at", 0) > CHALLENGE_SECONDS:
        raise Refused("challenge expired")
    return base64url_to_bytes(stored["value"])


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id))
        for key in keys_of(user)
    ]


# --- Registration ------------------------------------------------------------------------


def registration_options(request) -> str:
    """The options for navigator.credentials.create(), as JSON."""
    user = request.user
    rp_id, _origin = relying_party(request)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name="e-BOK",
        user_id=str(user.pk).encode(),
        user_name=user.login,
        user_display_name=user.display_name or user.login,
        challenge=_issue_challenge(request, REGISTER),
        timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    return options_to_json(options)


@transaction.atomic
def register(request, *, name: str, credential: str) -> SecurityKey:
    """Keep the key whose registration answers this session's challenge; audited and
    told to the account holder. ``Refused`` (audited) otherwise."""
    user = request.user
    rp_id, origin = relying_party(request)
    try:
        challenge = _take_challenge(request, REGISTER)
        if keys_of(user).count() >= MAX_KEYS:
            raise Refused("too many keys")
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (Refused, WebAuthnException, ValueError) as error:
        two_factor._record("webauthn.registration_failed", user, request, reason=str(error)[:200])
        raise Refused(str(error)) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if SecurityKey.objects.filter(credential_id=credential_id).exists():
        two_factor._record("webauthn.registration_failed", user, request, reason="known key")
        raise Refused("known key")
    key = SecurityKey.objects.create(
        user=user,
        name=name.strip()[:NAME_MAX_LENGTH],
        confirmed=True,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        rp_id=rp_id,
    )
    two_factor._record("webauthn.registered", user, request, key=key.name, key_id=key.pk)
    notifications.notify_security_key_added(user)
    return key


@transaction.atomic
def remove(request, key_id: int) -> bool:
    """Remove one of the account's own keys; audited and told. False: no such key."""
    user = request.user
    key = SecurityKey.objects.filter(user=user, pk=key_id).first()
    if key is None:
        return False
    name = key.name
    key.delete()
    two_factor._record("webauthn.removed", user, request, key=name, key_id=key_id)
    notifications.notify_security_key_removed(user)
    return True


# --- Use at login --------------------------------------------------------------------------


def authentication_options(request) -> str:
    """The options for navigator.credentials.get(): this account's keys for this host."""
    rp_id, _origin = relying_party(request)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=_issue_challenge(request, AUTHENTICATE),
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(request.user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options)


def _credential_id(credential: str) -> str:
    try:
        value = json.loads(credential).get("id")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or not value:
        raise Refused("malformed credential")
    return value


def verify(request, credential: str) -> bool:
    """Verify this session with one of the account's keys; audited either way."""
    user = request.user
    rp_id, origin = relying_party(request)
    with transaction.atomic():
        try:
            challenge = _take_challenge(request, AUTHENTICATE)
            key = (
                keys_of(user)
                .select_for_update()
                .filter(credential_id=_credential_id(credential))
                .first()
            )
            if key is None:
                raise Refused("unknown key")
            # The counter is compared below, after the signature holds: a forged
            # answer is a failure, only a genuine signature with a stale counter a clone.
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=bytes(key.public_key),
                credential_current_sign_count=0,
            )
        except (Refused, WebAuthnException, ValueError) as error:
            two_factor._record("webauthn.failed", user, request, reason=str(error)[:200])
            return False
        counter = verified.new_sign_count
        if (counter or key.sign_count) and counter <= key.sign_count:
            two_factor._record(
                "webauthn.cloned",
                user,
                request,
                key=key.name,
                counter=counter,
                stored=key.sign_count,
            )
            return False
        key.sign_count = counter
        key.last_used_at = timezone.now()
        key.save(update_fields=["sign_count", "last_used_at"])
    otp_login(request, key)
    two_factor._record("webauthn.verified", user, request, key=key.name)
    return True
