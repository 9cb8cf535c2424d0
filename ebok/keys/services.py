"""Re-encrypting stored secrets with the current keys (ASVS 1.6.3)."""

from dataclasses import dataclass

from cryptography.fernet import InvalidToken, MultiFernet
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from ebok.keys.keyring import CONNECTOR_SECRETS, OTP_KEYS, KeyringError, keyring
from ebok.keys.models import EncryptedTOTPDevice
from tenants import audit
from tenants.models import ConnectorSettings, Cooperative


@dataclass
class Rotation:
    connector_secrets: int = 0
    otp_keys: int = 0
    schemas: int = 0
    applied: bool = False


def _rotated(ring: MultiFernet, tokens: dict, unreadable: list[str], label) -> dict:
    """``{pk: new token}``; a token no key opens goes to ``unreadable`` as ``label(pk)``."""
    rotated = {}
    for pk, token in tokens.items():
        try:
            rotated[pk] = ring.rotate(token.encode()).decode()
        except InvalidToken:
            unreadable.append(label(pk))
    return rotated


def rotate_secrets(*, dry_run: bool = False, actor: str = "") -> Rotation:
    """Re-encrypt every connector secret (public schema) and every TOTP key (each
    schema) with the first key of its ring, in one transaction: if any token opens
    with none of the configured keys, nothing is written (``KeyringError``)."""
    connector_ring, otp_ring = keyring(CONNECTOR_SECRETS), keyring(OTP_KEYS)
    schemas = [get_public_schema_name()] + list(
        Cooperative.objects.exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    unreadable: list[str] = []
    with transaction.atomic():
        found = list(
            ConnectorSettings.objects.exclude(encrypted_secrets="")
            .select_for_update(of=("self",))
            .values_list("pk", "cooperative__code", "encrypted_secrets")
        )
        codes = {pk: code for pk, code, _token in found}
        secrets = _rotated(
            connector_ring,
            {pk: token for pk, _code, token in found},
            unreadable,
            lambda pk: f"connector secrets of {codes[pk]}",
        )
        devices = {}
        for schema in schemas:
            with schema_context(schema):
                tokens = dict(
                    EncryptedTOTPDevice.objects.select_for_update().values_list(
                        "pk", "encrypted_key"
                    )
                )
            devices[schema] = _rotated(
                otp_ring, tokens, unreadable, lambda pk, s=schema: f"TOTP device {pk} in {s}"
            )
        if unreadable:
            raise KeyringError(
                "No configured key opens: "
                + ", ".join(unreadable[:20])
                + ("…" if len(unreadable) > 20 else "")
                + ". Nothing was changed: put the missing key back in the list."
            )
        result = Rotation(
            connector_secrets=len(secrets),
            otp_keys=sum(len(d) for d in devices.values()),
            schemas=len(schemas),
        )
        if dry_run:
            return result
        _write(ConnectorSettings, "encrypted_secrets", secrets)
        for schema, rotated in devices.items():
            with schema_context(schema):
                _write(EncryptedTOTPDevice, "encrypted_key", rotated)
        audit.record(
            "keys.rotated",
            actor=actor,
            connector_secrets=result.connector_secrets,
            otp_keys=result.otp_keys,
            schemas=result.schemas,
        )
        result.applied = True
        return result


def _write(model, field: str, values: dict) -> None:
    """One UPDATE … CASE per batch rather than one per row."""
    model.objects.bulk_update(
        [model(pk=pk, **{field: value}) for pk, value in values.items()], [field], batch_size=500
    )
