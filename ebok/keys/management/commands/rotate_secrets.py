from django.core.management.base import BaseCommand, CommandError

from ebok.keys.keyring import KeyringError
from ebok.keys.services import rotate_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt every connector secret and TOTP key with the configured SECRETS_BACKEND: "
        "the first key of CONNECTOR_SECRET_KEYS / OTP_KEY_ENCRYPTION_KEYS, or Vault Transit's "
        "latest key version (Fernet values move to Transit, Transit values are rewrapped), "
        "and every stored document with the first key of DOCUMENT_KEYS "
        "(docs/KEY-MANAGEMENT.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="check that every token opens; write nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        try:
            result = rotate_secrets(dry_run=dry_run, actor="manage.py rotate_secrets")
        except KeyringError as exc:
            raise CommandError(str(exc)) from exc
        verb = "re-encrypted" if result.applied else "would re-encrypt (dry run)"
        self.stdout.write(
            f"{verb}: {result.connector_secrets} connector secrets, "
            f"{result.otp_keys} TOTP keys, {result.documents} documents "
            f"({result.documents_current} already under the current key) "
            f"in {result.schemas} schemas"
        )
