"""Re-encrypting stored secrets with the current keys (ASVS 1.6.3, 6.4.2)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from ebok.keys import ciphers
from ebok.keys import documents as stored_documents
from ebok.keys.keyring import CONNECTOR_SECRETS, DOCUMENTS, OTP_KEYS, KeyringError, Purpose, keyring
from ebok.keys.models import EncryptedTOTPDevice
from tenants import audit
from tenants.models import ConnectorSettings, Cooperative


@dataclass
class Rotation:
    connector_secrets: int = 0
    otp_keys: int = 0
    documents: int = 0
    documents_current: int = 0
    schemas: int = 0
    applied: bool = False


def _rotated(purpose: Purpose, tokens: dict, unreadable: list[str], label) -> dict:
    """``{pk: new token}``; a token no key opens goes to ``unreadable`` as ``label(pk)``."""
    rotated, failed = ciphers.reencrypt(purpose, tokens)
    unreadable.extend(label(pk) for pk in failed)
    return rotated


def rotate_secrets(*, dry_run: bool = False, actor: str = "") -> Rotation:
    """Re-encrypt every connector secret (public schema) and every TOTP key (each
    schema) with the configured backend's current key (``SECRETS_BACKEND``: the first
    Fernet key, or Vault Transit's latest key version), in one transaction, and every
    stored document's file under the first ``DOCUMENT_KEYS`` key. Everything is opened
    first: if any token or file opens with none of the keys, or Vault fails, nothing is
    written (``KeyringError``). A dry run still asks Vault, to prove every token opens."""
    for purpose in (CONNECTOR_SECRETS, OTP_KEYS):
        ciphers.cipher(purpose)  # a bad key or backend fails before anything is read
    keyring(DOCUMENTS)
    schemas = [get_public_schema_name(), *_cooperative_schemas()]
    # Files, not rows: opened before the transaction, rewritten (each by one rename)
    # inside it, so a failed write rolls the database back too.
    documents = stored_documents.survey(schemas)
    unreadable: list[str] = list(documents.unreadable)
    with transaction.atomic():
        found = list(
            ConnectorSettings.objects.exclude(encrypted_secrets="")
            .select_for_update(of=("self",))
            .values_list("pk", "cooperative__code", "encrypted_secrets")
        )
        codes = {pk: code for pk, code, _token in found}
        secrets = _rotated(
            CONNECTOR_SECRETS,
            {pk: token for pk, _code, token in found},
            unreadable,
            lambda pk: f"connector secrets of {codes[pk]}",
        )
        # The TOTP keys of all schemas in one set, so Vault sees full batches.
        tokens = {}
        for schema in schemas:
            with schema_context(schema):
                for pk, token in EncryptedTOTPDevice.objects.select_for_update().values_list(
                    "pk", "encrypted_key"
                ):
                    tokens[schema, pk] = token
        rotated = _rotated(
            OTP_KEYS, tokens, unreadable, lambda where: f"TOTP device {where[1]} in {where[0]}"
        )
        devices = {schema: {} for schema in schemas}
        for (schema, pk), token in rotated.items():
            devices[schema][pk] = token
        if unreadable:
            raise KeyringError(
                "No configured key opens: "
                + ", ".join(unreadable[:20])
                + ("…" if len(unreadable) > 20 else "")
                + ". Nothing was changed: put the missing key back (in its Fernet key list, "
                "or lower the Transit key's min_decryption_version), or restore the file."
            )
        result = Rotation(
            connector_secrets=len(secrets),
            otp_keys=len(rotated),
            documents=len(documents.stale),
            documents_current=documents.count - len(documents.stale),
            schemas=len(schemas),
        )
        if dry_run:
            return result
        _write(ConnectorSettings, "encrypted_secrets", secrets)
        for schema, rotated in devices.items():
            with schema_context(schema):
                _write(EncryptedTOTPDevice, "encrypted_key", rotated)
        stored_documents.reencrypt(documents.stale)
        audit.record(
            "keys.rotated",
            actor=actor,
            connector_secrets=result.connector_secrets,
            otp_keys=result.otp_keys,
            documents=result.documents,
            schemas=result.schemas,
            backend=settings.SECRETS_BACKEND,
        )
        result.applied = True
        return result


def _write(model, field: str, values: dict) -> None:
    """One UPDATE … CASE per batch rather than one per row."""
    model.objects.bulk_update(
        [model(pk=pk, **{field: value}) for pk, value in values.items()], [field], batch_size=500
    )


def _cooperative_schemas() -> list[str]:
    return list(
        Cooperative.objects.exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def encrypt_stored_documents(*, actor: str = "") -> stored_documents.Encryption:
    """Encrypt the documents every cooperative stored before they were encrypted at rest
    (decision 0812); those already encrypted are left alone."""
    keyring(DOCUMENTS)  # a bad key fails before any file is read
    result = stored_documents.encrypt_plaintext(_cooperative_schemas())
    if result.encrypted:
        audit.record(
            "keys.documents_encrypted",
            actor=actor,
            documents=result.encrypted,
            already=result.already,
            refused=len(result.refused),
        )
    return result
