"""Secrets of connector settings (e.g. a bearer token), encrypted at rest by the
configured backend: Fernet under ``CONNECTOR_SECRET_KEYS`` or Vault Transit
(docs/KEY-MANAGEMENT.md). Errors are ``KeyringError`` (a ``ValueError``)."""

import json

from ebok.keys import ciphers
from ebok.keys.keyring import CONNECTOR_SECRETS


def encrypt_secrets(secrets: dict) -> str:
    if not secrets:
        return ""
    return ciphers.encrypt(CONNECTOR_SECRETS, json.dumps(secrets, sort_keys=True).encode())


def decrypt_secrets(token: str) -> dict:
    if not token:
        return {}
    return json.loads(ciphers.decrypt(CONNECTOR_SECRETS, token))
