from django.core.management.base import BaseCommand, CommandError

from tenants.services import OnboardingError, onboard_cooperative
from tenants.subdomains import portal_url


class Command(BaseCommand):
    help = "Create a cooperative: its schema, its domain and its settings."

    def add_arguments(self, parser):
        parser.add_argument(
            "--code", required=True, help="Code used by its accounting system, e.g. ODRA"
        )
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", help="Host name; default <code>.<BASE_DOMAIN>")

    def handle(self, *args, code, name, domain, **options):
        try:
            cooperative = onboard_cooperative(code=code, name=name, domain=domain)
        except OnboardingError as error:
            raise CommandError(str(error)) from error
        host = cooperative.domains.get(is_primary=True).domain
        self.stdout.write(f"onboarded {cooperative.code}: {portal_url(host)}")
