import sys

from django.core.management.base import BaseCommand

from connectors.management.commands._common import cooperative_by_code
from connectors.services import apply_package


class Command(BaseCommand):
    # Like the worker that runs the same sync: the system checks (which load every
    # URLconf and view) ran when the deployment started, not once per package.
    requires_system_checks = []
    help = "Apply one ZSI package (ZIP or folder) to a cooperative now."

    def add_arguments(self, parser):
        parser.add_argument("--cooperative", required=True, help="Cooperative code, e.g. ODRA")
        parser.add_argument("path", help="The package: a .zip file or an unpacked folder")

    def handle(self, *args, cooperative, path, **options):
        coop = cooperative_by_code(cooperative)
        result = apply_package(coop, path, trigger="command", connector="import")
        self.stdout.write(result.outcome)
        run = result.run
        if result.outcome == "applied":
            rows = sum(v for k, v in run.counts.items() if k.endswith(".CSV"))
            self.stdout.write(
                f"package {run.package_number} ({run.mode}, STAN_NA {run.as_of}): "
                f"{rows} rows in {run.duration_ms} ms"
            )
        for problem in result.problems:
            self.stdout.write(f"  {problem}")
        if result.outcome not in ("applied", "duplicate"):
            sys.exit(1)
