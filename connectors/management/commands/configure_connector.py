import sys

from django.core.management.base import BaseCommand, CommandError

from connectors.management.commands._common import cooperative_by_code
from connectors.services import ConfigurationError, configure_connector
from connectors.zsi_file import default_folder


class Command(BaseCommand):
    help = (
        "Set a cooperative's connector and schedule, then check the source: "
        "--connector zsi-file --inbox PATH, or --connector zsi-rest --url URL --token TOKEN."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cooperative", required=True)
        parser.add_argument("--connector", required=True)
        parser.add_argument(
            "--inbox", help="zsi-file: the inbox folder (default under CONNECTOR_ROOT)"
        )
        parser.add_argument("--archive")
        parser.add_argument("--quarantine")
        parser.add_argument("--url", help="zsi-rest: the base URL")
        parser.add_argument("--token", help="zsi-rest: the bearer token (stored encrypted)")
        parser.add_argument("--schedule", help="'every 15m', 'every 2h', 'daily 02:30' or cron")
        parser.add_argument("--disabled", action="store_true", help="store, but do not schedule")

    def handle(self, *args, **o):
        cooperative = cooperative_by_code(o["cooperative"])
        if o["connector"] == "zsi-file":
            inbox = o["inbox"] or str(default_folder(cooperative.code, "inbox"))
            config = {"inbox": inbox}
            for key in ("archive", "quarantine"):
                if o[key]:
                    config[key] = o[key]
            from pathlib import Path

            Path(inbox).mkdir(parents=True, exist_ok=True)
        elif o["connector"] == "zsi-rest":
            if not o["url"] or not o["token"]:
                raise CommandError("zsi-rest needs --url and --token.")
            config = {"url": o["url"], "token": o["token"]}
        else:
            config = {}
        try:
            row, check = configure_connector(
                cooperative,
                connector=o["connector"],
                config=config,
                schedule=o["schedule"],
                enabled=not o["disabled"],
            )
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{cooperative.code}: {row.connector}, schedule {row.schedule!r}, "
            f"next run {row.next_run_at:%Y-%m-%d %H:%M %Z}" + ("" if row.enabled else " (disabled)")
        )
        self.stdout.write(
            ("source answered: " if check.ok else "source did not answer: ") + check.message
        )
        if not check.ok:
            sys.exit(1)
