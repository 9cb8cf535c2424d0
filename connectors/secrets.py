"""Secrets of connector settings (e.g. a bearer token), encrypted at rest with Fernet."""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.CONNECTOR_SECRET_KEY
    if not key:
        # A stable key derived from SECRET_KEY, so one setting is enough to run.
        digest = hashlib.sha256(("connector-secrets:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt_secrets(secrets: dict) -> str:
    if not secrets:
        return ""
    return _fernet().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt_secrets(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("The connector secrets cannot be decrypted with this key.") from exc
