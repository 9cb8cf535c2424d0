"""Key rings over the configured Fernet keys (docs/KEY-MANAGEMENT.md).

Each purpose has its own list of Fernet keys, the current one first: MultiFernet
encrypts with the first and decrypts with any, so a new key can be put in front,
``rotate_secrets`` re-encrypts everything with it, and then the old key goes.
A deployment may instead keep its keys in Vault Transit (``ebok.keys.ciphers``).
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@dataclass(frozen=True)
class Purpose:
    """What a key protects: its Fernet key list setting, the label of the key derived
    in development, the setting naming its Vault Transit key, and words for errors."""

    setting: str
    label: str
    transit_key_setting: str  # "" when only the Fernet key list serves it
    what: str


CONNECTOR_SECRETS = Purpose(
    "CONNECTOR_SECRET_KEYS", "connector-secrets", "VAULT_TRANSIT_CONNECTOR_KEY", "connector secrets"
)
OTP_KEYS = Purpose("OTP_KEY_ENCRYPTION_KEYS", "otp-keys", "VAULT_TRANSIT_OTP_KEY", "a TOTP key")
PURPOSES = (CONNECTOR_SECRETS, OTP_KEYS)
# Stored PDFs stay with Fernet whatever SECRETS_BACKEND says: an import stores thousands,
# a round trip to Vault for each is not worth it (decision 0812).
DOCUMENTS = Purpose("DOCUMENT_KEYS", "documents", "", "a stored document")
# Not Fernet keys but HMAC keys of password hashes (ebok.accounts.hashers): listed, and
# derived in development, the same way.
PASSWORD_PEPPERS = Purpose("PASSWORD_PEPPERS", "password-pepper", "", "a password hash")


class KeyringError(ValueError):
    """A configured key is not usable, or a token opens with none of the keys."""


def _derived_key(label: str, secret_key: str) -> str:
    # Development only (production requires explicit keys, see checks.py): one
    # setting is enough to run, and each purpose still gets its own key.
    digest = hashlib.sha256(f"{label}:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def keys_of(purpose: Purpose) -> list[str]:
    # Derived keys follow SECRET_KEY's own rotation: its fallbacks still decrypt.
    return list(getattr(settings, purpose.setting)) or [
        _derived_key(purpose.label, key)
        for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    ]


def keyring(purpose: Purpose) -> MultiFernet:
    fernets = []
    for number, key in enumerate(keys_of(purpose), start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, binascii.Error) as exc:
            raise KeyringError(
                f"{purpose.setting}: key {number} is not a Fernet key "
                "(32 bytes in url-safe base64, e.g. from Fernet.generate_key())."
            ) from exc
    return MultiFernet(fernets)
