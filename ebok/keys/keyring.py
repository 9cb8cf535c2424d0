"""Key rings over the configured keys (docs/KEY-MANAGEMENT.md).

Each purpose has its own list of Fernet keys, the current one first: MultiFernet
encrypts with the first and decrypts with any, so a new key can be put in front,
``rotate_secrets`` re-encrypts everything with it, and then the old key goes.
"""

import base64
import binascii
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

CONNECTOR_SECRETS = ("CONNECTOR_SECRET_KEYS", "connector-secrets")
OTP_KEYS = ("OTP_KEY_ENCRYPTION_KEYS", "otp-keys")


class KeyringError(ValueError):
    """A configured key is not a Fernet key, or a token opens with none of the keys."""


def _derived_key(purpose: str) -> str:
    # Development only (production requires explicit keys, see checks.py): one
    # setting is enough to run, and each purpose still gets its own key.
    digest = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def keys_of(kind: tuple[str, str]) -> list[str]:
    setting, purpose = kind
    return list(getattr(settings, setting)) or [_derived_key(purpose)]


def keyring(kind: tuple[str, str]) -> MultiFernet:
    setting = kind[0]
    fernets = []
    for number, key in enumerate(keys_of(kind), start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, binascii.Error) as exc:
            raise KeyringError(
                f"{setting}: key {number} is not a Fernet key "
                "(32 bytes in url-safe base64, e.g. from Fernet.generate_key())."
            ) from exc
    return MultiFernet(fernets)
