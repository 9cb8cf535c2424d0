import sys

from django.core.management.base import BaseCommand

from connectors.management.commands._common import cooperative_by_code
from connectors.services import run_sync


class Command(BaseCommand):
    # Like the worker that runs the same sync: the system checks (which load every
    # URLconf and view) ran when the deployment started, not once per package.
    requires_system_checks = []
    help = "Run the cooperative's connector once, now, in this process."

    def add_arguments(self, parser):
        parser.add_argument("--cooperative", required=True)

    def handle(self, *args, cooperative, **options):
        coop = cooperative_by_code(cooperative)
        tty = self.stdout.isatty()

        def show(progress: dict) -> None:
            if not tty:
                return
            phase = progress.get("phase", "")
            total = progress.get("bytes") or 0
            done = progress.get("bytes_done") or 0
            width = 30
            filled = int(width * done / total) if total else (width if phase != "reading" else 0)
            bar = "#" * filled + "-" * (width - filled)
            label = progress.get("file") or ""
            self.stdout.write(f"\r[{bar}] {phase:<18} {label:<16}", ending="")
            self.stdout.flush()

        summary = run_sync(coop, trigger="manual", wait=True, on_progress=show)
        if tty:
            self.stdout.write("")
        for result in summary.results:
            run = result.run
            self.stdout.write(
                f"{result.outcome}: {run.source} "
                f"(package {run.package_number}, STAN_NA {run.as_of})"
            )
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
        if not summary.results:
            self.stdout.write(summary.outcome + (f": {summary.message}" if summary.message else ""))
        if summary.outcome in ("rejected", "failed"):
            sys.exit(1)
