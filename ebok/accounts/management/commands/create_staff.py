from ebok.accounts import services
from ebok.accounts.management.base import CooperativeCommand
from ebok.accounts.models import User


class Command(CooperativeCommand):
    help = "Create a staff account of the cooperative; prints 'login: …' and 'password: …' once."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--login", required=True)
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--name", default="", help="The staff member's name.")
        parser.add_argument("--email", default="", help="Where the account's notices go.")

    def run(self, cooperative, *, login, role, name, email, **options):
        credentials = services.create_staff(
            login=login, role=role, display_name=name, email=email, actor=self.actor
        )
        self.stdout.write(f"login: {credentials.user.login}")
        self.stdout.write(f"password: {credentials.password}")
