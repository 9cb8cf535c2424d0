"""Secrets of connector settings (e.g. a bearer token), encrypted at rest with
Fernet under ``CONNECTOR_SECRET_KEYS`` (docs/KEY-MANAGEMENT.md)."""

import json

from cryptography.fernet import InvalidToken

from ebok.keys.keyring import CONNECTOR_SECRETS, keyring


def encrypt_secrets(secrets: dict) -> str:
    if not secrets:
        return ""
    return keyring(CONNECTOR_SECRETS).encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt_secrets(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(keyring(CONNECTOR_SECRETS).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("The connector secrets cannot be decrypted with this key.") from exc
