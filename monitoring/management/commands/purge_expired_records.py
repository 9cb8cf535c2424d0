from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from monitoring.retention import purge_cooperative, purge_public
from tenants import selectors
from tenants.models import Cooperative


class Command(BaseCommand):
    help = "Deletes records and package files older than their retention period."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count, delete nothing")
        parser.add_argument("--cooperative", help="only this cooperative's code (no public schema)")

    def handle(self, *args, dry_run, cooperative, **options):
        verb = "would delete" if dry_run else "deleted"
        if cooperative:
            try:
                targets = [selectors.by_code(cooperative)]
            except Cooperative.DoesNotExist as error:
                raise CommandError(f"No cooperative {cooperative!r}.") from error
        else:
            targets = list(selectors.cooperatives())
            self._report("public", verb, purge_public(dry_run=dry_run))
        for target in targets:
            with schema_context(target.schema_name):
                self._report(target.code, verb, purge_cooperative(target, dry_run=dry_run))

    def _report(self, where: str, verb: str, counts: dict) -> None:
        listed = ", ".join(f"{kind}={count}" for kind, count in counts.items())
        self.stdout.write(f"{where}: {verb} {listed}")
