from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone

from ebok.accounts import services
from ebok.accounts.management.base import CooperativeCommand


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}.") from error


class Command(CooperativeCommand):
    help = (
        "On the owner's written request: block the account and remove it with its "
        "personal data, keeping a minimal erasure record."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--login", required=True)
        parser.add_argument("--reference", required=True, help="Reference of the letter.")
        parser.add_argument("--date", help="Date of the written request, YYYY-MM-DD (today).")

    def run(self, cooperative, *, login, reference, date, **options):
        account = self.account(login)
        record = services.erase_account(
            user=account,
            request_reference=reference,
            request_date=_day(date) if date else timezone.localdate(),
            actor=self.actor,
        )
        self.stdout.write(f"erased: record {record.pk}, reference {record.request_reference}")
