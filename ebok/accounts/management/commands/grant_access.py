from pathlib import Path

from django.conf import settings
from django.utils import translation

from ebok.accounts import services
from ebok.accounts.management.base import CooperativeCommand
from ebok.panel.letter import access_letter


class Command(CooperativeCommand):
    help = (
        "Create the e-BOK account of a person from the accounting data; prints "
        "'login: …' and 'password: …' once."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--person", required=True, help="ID_OSOBY in the accounting data.")
        parser.add_argument("--letter", type=Path, help="Also write the access letter (PDF).")
        parser.add_argument(
            "--confirm-after-erasure",
            action="store_true",
            help="Grant again to a person whose account was erased on request.",
        )

    def run(self, cooperative, *, person, letter, confirm_after_erasure, **options):
        credentials = services.grant_access(
            person_source_id=person,
            confirm_after_erasure=confirm_after_erasure,
            actor=self.actor,
        )
        if letter is not None:
            with translation.override(settings.LANGUAGE_CODE):
                pdf = access_letter(
                    cooperative=cooperative, user=credentials.user, password=credentials.password
                )
            letter.write_bytes(pdf)
        self.stdout.write(f"login: {credentials.user.login}")
        self.stdout.write(f"password: {credentials.password}")
