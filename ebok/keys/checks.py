"""Checks of keys and of the file scanner (``manage.py check``, ``check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from ebok.keys.keyring import CONNECTOR_SECRETS, OTP_KEYS, KeyringError, keyring
from ebok_platform import antivirus


@register(Tags.security)
def keys_are_fernet_keys(app_configs, **kwargs):
    errors = []
    for kind in (CONNECTOR_SECRETS, OTP_KEYS):
        try:
            keyring(kind)
        except KeyringError as exc:
            errors.append(Error(str(exc), id="keys.E001"))
    if antivirus.configured():
        try:
            antivirus.address()
        except ValueError as exc:
            errors.append(Error(str(exc), id="keys.E002"))
    return errors


@register(Tags.security, deploy=True)
def production_has_its_own_keys_and_a_scanner(app_configs, **kwargs):
    if not settings.PRODUCTION:
        return []
    errors = [
        Error(
            f"{setting} is not set: production needs its own keys, not ones derived from "
            "SECRET_KEY.",
            hint="Generate one with Fernet.generate_key(); see docs/KEY-MANAGEMENT.md.",
            id="keys.E003",
        )
        for setting, _purpose in (CONNECTOR_SECRETS, OTP_KEYS)
        if not getattr(settings, setting)
    ]
    if not settings.ANTIVIRUS_URL:
        errors.append(
            Error(
                "ANTIVIRUS_URL is not set: files of packages and logos would not be scanned.",
                hint="Set ANTIVIRUS_URL=tcp://clamd:3310, or ANTIVIRUS_URL=off with the "
                "reason written in the deployment's records (docs/decisions/0782).",
                id="keys.E004",
            )
        )
    return errors
