from ebok.accounts import services
from ebok.accounts.management.base import CooperativeCommand
from ebok.accounts.models import User


class Command(CooperativeCommand):
    help = "Issue a new random password: the old one and every session end. Prints it once."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--login", required=True)

    def run(self, cooperative, *, login, **options):
        account = self.account(login, kinds=(User.Kind.RESIDENT, User.Kind.STAFF))
        issued = services.regenerate_password(user=account, actor=self.actor)
        self.stdout.write(f"password: {issued.password}")
