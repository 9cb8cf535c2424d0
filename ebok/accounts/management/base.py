"""Account commands run inside one cooperative's schema, chosen by its code."""

import getpass

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from ebok.accounts import selectors
from ebok.accounts.models import User
from ebok.accounts.services import AccountError
from tenants.models import Cooperative
from tenants.selectors import by_code


class CooperativeCommand(BaseCommand):
    """Subclasses implement ``run(cooperative, **options)``; an ``AccountError``
    becomes a clear message on stderr and a non-zero exit code."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--cooperative", required=True, help="The cooperative's code, e.g. ODRA."
        )

    def handle(self, *args, cooperative, **options):
        try:
            found = by_code(cooperative)
        except Cooperative.DoesNotExist as error:
            raise CommandError(f"No cooperative with code {cooperative}.") from error
        with schema_context(found.schema_name):
            try:
                self.run(found, **options)
            except AccountError as error:
                raise CommandError(str(error)) from error

    def run(self, cooperative, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def actor(self) -> str:
        """Who acted, as the audit log names it."""
        try:
            return f"cli:{getpass.getuser()}"[:64]
        except (KeyError, OSError):
            return "cli"

    def account(self, login: str, *, kinds=(User.Kind.RESIDENT,)) -> User:
        account = selectors.account_by_login(login)
        if account is None or account.kind not in kinds:
            raise CommandError(f"No account with login {login}.")
        return account
