from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from ebok.accounts import two_factor
from ebok.accounts.models import User


class Command(BaseCommand):
    help = (
        "Reset the two-step verification of a platform operator who lost their "
        "authenticator and recovery codes: they set it up again at their next sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--login", required=True)
        parser.add_argument("--reason", required=True, help="Why, for the operators' audit log.")

    def handle(self, *args, login, reason, **options):
        with schema_context("public"):
            user = User.objects.filter(login=login, kind=User.Kind.OPERATOR).first()
            if user is None:
                raise CommandError(f"No platform operator {login}.")
            removed = two_factor.reset_operator_devices(user, reason=reason)
        self.stdout.write(f"{login}: {removed} device(s) removed; set up again at next sign-in")
