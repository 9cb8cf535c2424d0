"""Checks of keys and of the file scanner (``manage.py check``, ``check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from ebok.accounts.hashers import PepperError, peppers
from ebok.keys import ciphers, transit
from ebok.keys.keyring import DOCUMENTS, PURPOSES, KeyringError, keyring
from ebok_platform import antivirus


@register(Tags.security)
def keys_are_fernet_keys(app_configs, **kwargs):
    errors = []
    for purpose in (*PURPOSES, DOCUMENTS):
        try:
            keyring(purpose)
        except KeyringError as exc:
            errors.append(Error(str(exc), id="keys.E001"))
    try:
        peppers()
    except PepperError as exc:
        errors.append(Error(str(exc), id="keys.E007"))
    errors += [Error(problem, id="keys.E005") for problem in _backend_problems()]
    if antivirus.configured():
        try:
            antivirus.address()
        except ValueError as exc:
            errors.append(Error(str(exc), id="keys.E002"))
    return errors


def _backend_problems() -> list[str]:
    if settings.SECRETS_BACKEND == ciphers.VAULT_TRANSIT:
        return [f"SECRETS_BACKEND=vault-transit: {p}" for p in transit.configuration_problems()]
    if settings.SECRETS_BACKEND != ciphers.FERNET:
        return [
            f"SECRETS_BACKEND must be fernet or vault-transit, not {settings.SECRETS_BACKEND!r}."
        ]
    return []


@register(Tags.security, deploy=True)
def production_has_its_own_keys_and_a_scanner(app_configs, **kwargs):
    if not settings.PRODUCTION:
        return []
    fernet_rings = [p for p in PURPOSES if settings.SECRETS_BACKEND == ciphers.FERNET]
    fernet_rings.append(DOCUMENTS)  # documents use Fernet whatever the backend (0812)
    errors = [
        Error(
            f"{purpose.setting} is not set: production needs its own keys, not ones derived "
            "from SECRET_KEY.",
            hint="Generate one with Fernet.generate_key(); see docs/KEY-MANAGEMENT.md.",
            id="keys.E003",
        )
        for purpose in fernet_rings
        if not getattr(settings, purpose.setting)
    ]
    if not settings.PASSWORD_PEPPERS:
        errors.append(
            Error(
                "PASSWORD_PEPPERS is not set: production needs its own password pepper, not "
                "one derived from SECRET_KEY.",
                hint="Generate one with secrets.token_urlsafe(32) and keep it out of the "
                "database and its backups; see docs/KEY-MANAGEMENT.md.",
                id="keys.E007",
            )
        )
    if settings.SECRETS_BACKEND == ciphers.VAULT_TRANSIT and not settings.VAULT_ADDR.startswith(
        "https://"
    ):
        errors.append(
            Error(
                "VAULT_ADDR must be an https:// address: the secrets Vault encrypts would "
                "cross the network unprotected.",
                hint="Point it at Vault's TLS listener; VAULT_CACERT names a private CA.",
                id="keys.E006",
            )
        )
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
