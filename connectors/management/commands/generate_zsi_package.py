import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connectors.zsi.generator import DEFAULT_AS_OF, generate_delta, generate_full


class Command(BaseCommand):
    help = (
        "Write a valid, deterministic ZSI package (OUT ending in .zip: a ZIP, else a folder); "
        "with --delta-of, a valid PRZYROSTOWY follow-up of an earlier generated package."
    )

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--premises", type=int, default=12)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--code", default="ODRA")
        parser.add_argument("--number", type=int, default=1)
        parser.add_argument("--as-of", default=DEFAULT_AS_OF.isoformat())
        parser.add_argument("--encoding", choices=["CP1250", "UTF-8"], default=None)
        parser.add_argument("--no-documents", action="store_true")
        parser.add_argument("--delta-of", metavar="PREVIOUS", default=None)
        parser.add_argument(
            "--ledger-share",
            type=float,
            default=None,
            help="with --delta-of: size the delta's ledger to this share of the previous one",
        )

    def handle(self, *args, **o):
        out = Path(o["out"])
        if o["delta_of"]:
            if not Path(o["delta_of"]).exists():
                raise CommandError(f"{o['delta_of']} does not exist.")
            if o["ledger_share"] is not None and not 0 < o["ledger_share"] <= 1:
                raise CommandError("--ledger-share must be above 0 and at most 1.")
            path = generate_delta(
                o["delta_of"],
                out,
                seed=o["seed"],
                encoding=o["encoding"],
                ledger_share=o["ledger_share"],
            )
        else:
            if o["premises"] < 1 or o["years"] < 1:
                raise CommandError("--premises and --years must be at least 1.")
            path = generate_full(
                out,
                premises=o["premises"],
                years=o["years"],
                seed=o["seed"],
                code=o["code"].upper(),
                number=o["number"],
                as_of=dt.date.fromisoformat(o["as_of"]),
                encoding=o["encoding"] or "CP1250",
                documents=not o["no_documents"],
            )
        self.stdout.write(str(path))
