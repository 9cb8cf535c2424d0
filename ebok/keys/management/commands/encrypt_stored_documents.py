from django.core.management.base import BaseCommand, CommandError

from ebok.keys.keyring import KeyringError
from ebok.keys.services import encrypt_stored_documents


class Command(BaseCommand):
    help = (
        "Encrypt, under the first key of DOCUMENT_KEYS, every document's PDF stored in "
        "plaintext before documents were encrypted at rest; files already encrypted are "
        "left as they are, so it can run again (docs/KEY-MANAGEMENT.md)."
    )

    def handle(self, *args, **options):
        try:
            result = encrypt_stored_documents(actor="manage.py encrypt_stored_documents")
        except KeyringError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"encrypted: {result.encrypted} documents; already encrypted: {result.already}"
        )
        if result.refused:
            raise CommandError(
                "Left as they are (neither a PDF whose SHA-256 is its name nor encrypted): "
                + ", ".join(result.refused[:20])
                + ("…" if len(result.refused) > 20 else "")
            )
