from ebok.accounts import services
from ebok.accounts.management.base import CooperativeCommand
from ebok.accounts.models import User


class Command(CooperativeCommand):
    help = "Block an account (its sessions and tokens end at once)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--login", required=True)
        parser.add_argument("--reason", required=True, choices=User.BlockReason.values)
        parser.add_argument("--note", default="")

    def run(self, cooperative, *, login, reason, note, **options):
        account = self.account(login, kinds=(User.Kind.RESIDENT, User.Kind.STAFF))
        services.block_account(user=account, reason=reason, note=note, actor=self.actor)
        self.stdout.write(f"blocked: {account.login}")
