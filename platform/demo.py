"""The whole system on one machine, with the demo cooperative ODRA.

    python -m ebok_platform.demo [--data-dir var/demo] [--bind 0.0.0.0:8000] [--prepare-only]

(``bin/demo`` installs ``.venv`` first and runs this.) Steps, each skipped when
already done, so a second start reuses everything the first one made:

1. PostgreSQL and Redis: ``DATABASE_URL``/``REDIS_URL``, else local servers on the
   default ports, else embedded ones with their data under ``--data-dir``;
2. ``migrate_schemas``;
3. ``onboard_cooperative`` ODRA, with its rent department's contact data and rules;
4. demo data through the connector: ``generate_zsi_package`` into the inbox,
   ``configure_connector`` (zsi-file, every 15 minutes), ``sync_now``;
5. demo accounts: a staff administrator (``create_staff``), a resident
   (``grant_access``) and a platform operator for the console on the apex host;
6. gunicorn, a Celery worker and Celery beat, until Ctrl-C stops them all.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

from ebok_platform import services

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

CODE = "ODRA"
NAME = "Spółdzielnia Mieszkaniowa Lokatorsko-Własnościowa „ODRA” w Oławie"
CONTACT = {
    "address": "ul. 1 Maja 22, 55-200 Oława",
    "contact_room": "pok. nr 3",
    "contact_address": "ul. 1 Maja 22, 55-200 Oława",
    "contact_phone": "71 303 93 58",
    "contact_hours": "pon.–pt. 7:00–15:00",
}
RULES = """\
1. Spółdzielnia nie posiada informacji o indywidualnym haśle i nie może go odtworzyć. \
W przypadku utraty indywidualnego hasła Spółdzielnia może jedynie ponownie wygenerować \
nowe losowe hasło (likwidując wcześniejszy dostęp).
2. Na pisemne żądanie właściciela lokalu Spółdzielnia zablokuje dostęp do konta e-BOK \
i usunie dane z listy użytkowników e-BOK.
3. Spółdzielnia ma prawo zablokować dostęp do konta w przypadku stwierdzenia korzystania \
z niego w sposób sprzeczny z jego przeznaczeniem.
4. Saldo rozliczeń dotyczące danego lokalu na dany dzień może nie uwzględniać operacji \
z kilku minionych dni, które nie zostały jeszcze zaksięgowane.
5. System e-BOK działa w oparciu o cykliczny, automatyczny przesył informacji. Uzyskane \
przez właściciela lokalu – użytkownika za pośrednictwem systemu e-BOK dane mają charakter \
informacyjny.
6. W przypadku stwierdzenia niezgodności należy skontaktować się z Działem Czynszów \
tel. 71 303 93 58.
7. Spółdzielnia nie ponosi odpowiedzialności za skutki wynikające z udostępnienia \
identyfikatora i hasła przez właściciela – użytkownika osobom trzecim.
"""
STAFF_LOGIN = "kierownik.czynszow"
STAFF_NAME = "Kierownik Działu Czynszów"
OPERATOR_LOGIN = "operator"
PACKAGE = {"premises": 200, "years": 3, "seed": 1}
SCHEDULE = "every 15m"
NOTES = {
    "changed": "(changed since; to issue a new one: manage.py regenerate_password "
    "--cooperative ODRA --login {login})",
    "blocked": "(blocked; manage.py unblock_account --cooperative ODRA --login {login})",
}
REQUIRED_COMMANDS = [
    "migrate_schemas",
    "onboard_cooperative",
    "generate_zsi_package",
    "configure_connector",
    "sync_now",
    "create_staff",
    "grant_access",
]


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def detail(text: str) -> None:
    for line in text.strip().splitlines():
        print(f"    {line}", flush=True)


class Demo:
    def __init__(self, data_dir: Path, bind: str):
        self.data_dir = data_dir
        self.bind = bind
        self.port = bind.rsplit(":", 1)[1]
        self.inbox = data_dir / "inbox"
        self.logs = data_dir / "logs"
        self.logins_file = data_dir / "logins.json"
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.services: services.Services | None = None

    # --- 1. services and settings ------------------------------------------------

    def provide_services(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        say("PostgreSQL and Redis")
        self.services = services.provide(self.data_dir, persist=True)
        detail("\n".join(self.services.describe()))
        if self.services.plan.database.source == "environment":
            services.ensure_database(self.services.database_url)
        os.environ.update(
            DATABASE_URL=self.services.database_url,
            REDIS_URL=self.services.redis_url,
            CELERY_BROKER_URL=os.environ.get("CELERY_BROKER_URL") or self.services.redis_url,
            DJANGO_SETTINGS_MODULE="ebok_platform.settings",
            PORTAL_PORT=os.environ.get("PORTAL_PORT", self.port),
            PRIVATE_STORAGE_ROOT=os.environ.get(
                "PRIVATE_STORAGE_ROOT", str(self.data_dir / "files")
            ),
            CONNECTOR_ROOT=os.environ.get("CONNECTOR_ROOT", str(self.data_dir / "connectors")),
        )
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))  # the apps are imported from the project folder
        import django

        django.setup()

    # --- 2.–5. the cooperative, its data, its accounts -------------------------------

    def command(self, *args: str) -> str:
        """Run a management command in this process; return (and echo) what it printed."""
        from django.core.management import call_command
        from django.db import connection

        out = io.StringIO()
        try:
            call_command(*args, stdout=out)
        finally:
            connection.set_schema_to_public()
            text = out.getvalue()
            if text.strip():
                detail(text)
        return text

    def check_commands(self) -> None:
        from django.core.management import get_commands

        missing = [name for name in REQUIRED_COMMANDS if name not in get_commands()]
        if missing:
            raise SystemExit(
                "This checkout lacks management commands the demo needs: " + ", ".join(missing)
            )

    def migrate(self) -> None:
        say("manage.py migrate_schemas")
        from django.core.management import call_command

        call_command("migrate_schemas", interactive=False, verbosity=0)

    def cooperative(self):
        from tenants.models import Cooperative

        return Cooperative.objects.filter(code=CODE).first()

    def onboard(self) -> None:
        if self.cooperative() is not None:
            say(f"{CODE} is onboarded already")
            return
        say(f"manage.py onboard_cooperative --code {CODE}")
        self.command("onboard_cooperative", "--code", CODE, "--name", NAME)
        from tenants.models import Cooperative

        Cooperative.objects.filter(code=CODE).update(**CONTACT, rules_text=RULES)

    def in_odra(self):
        from django_tenants.utils import schema_context

        return schema_context(self.cooperative().schema_name)

    def has_data(self) -> bool:
        from ebok.models import Premises

        with self.in_odra():
            return Premises.objects.exists()

    def seed(self) -> None:
        from tenants.models import ConnectorSettings

        if self.has_data():
            say(f"{CODE} has its demo data already")
            return
        self.inbox.mkdir(parents=True, exist_ok=True)
        if not any(self.inbox.iterdir()):
            stamp = time.strftime("%Y%m%dT%H%M%S")
            package = self.inbox / f"{CODE}_{stamp}_1.zip"
            shown = package.relative_to(ROOT) if package.is_relative_to(ROOT) else package
            say(f"manage.py generate_zsi_package → {shown}")
            self.command(
                "generate_zsi_package",
                "--premises",
                str(PACKAGE["premises"]),
                "--years",
                str(PACKAGE["years"]),
                "--seed",
                str(PACKAGE["seed"]),
                str(package),
            )
        if not ConnectorSettings.objects.filter(cooperative__code=CODE).exists():
            say(f"manage.py configure_connector --cooperative {CODE} --connector zsi-file")
            self.command(
                "configure_connector",
                "--cooperative",
                CODE,
                "--connector",
                "zsi-file",
                "--inbox",
                str(self.inbox),
                "--schedule",
                SCHEDULE,
            )
        say(f"manage.py sync_now --cooperative {CODE}")
        self.command("sync_now", "--cooperative", CODE)
        if not self.has_data():
            raise SystemExit(f"The sync did not bring {CODE} any data; see the output above.")

    def read_logins(self) -> dict:
        try:
            return json.loads(self.logins_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def write_logins(self, logins: dict) -> None:
        self.logins_file.write_text(json.dumps(logins, indent=2, ensure_ascii=False) + "\n")
        self.logins_file.chmod(0o600)

    @staticmethod
    def credentials(text: str) -> dict:
        found = dict(re.findall(r"^\s*(login|password)\s*:\s*(\S+)\s*$", text, re.MULTILINE))
        if "password" not in found:
            raise SystemExit(f"Expected 'password: …' in the command's output:\n{text}")
        return found

    @staticmethod
    def password_state(user, noted: str) -> str:
        """``valid``, ``expired`` (issued, never used, too old), ``changed`` or ``blocked``."""
        from django.conf import settings
        from django.utils import timezone

        if not user.is_active or getattr(user, "blocked_at", None):
            return "blocked"
        if not noted or not user.check_password(noted):
            return "changed"
        if getattr(user, "must_change_password", False) and user.password_issued_at:
            valid_days = getattr(settings, "ISSUED_PASSWORD_VALID_DAYS", 14)
            if user.password_issued_at < timezone.now() - timedelta(days=valid_days - 1):
                return "expired"
        return "valid"

    def keep_or_reissue(self, logins: dict, role: str, user) -> None:
        """Keep the noted password; reissue an expired one; never touch one the user chose."""
        noted = logins.get(role, {}).get("password", "")
        state = self.password_state(user, noted)
        if state == "expired":
            from ebok.accounts.services import regenerate_password

            noted, state = regenerate_password(user=user).password, "valid"
        logins[role] = {"login": user.login, "password": noted if state == "valid" else ""}
        if state != "valid":
            logins[role]["note"] = state

    def accounts(self) -> dict:
        from ebok.accounts.models import User
        from ebok.models import Person

        logins = self.read_logins()
        say("demo accounts")

        with self.in_odra():
            staff = User.objects.filter(login=STAFF_LOGIN).first()
            if staff is not None:
                self.keep_or_reissue(logins, "staff", staff)
        if staff is None:
            text = self.command(
                "create_staff",
                "--cooperative",
                CODE,
                "--login",
                STAFF_LOGIN,
                "--role",
                "admin",
                "--name",
                STAFF_NAME,
            )
            logins["staff"] = {**self.credentials(text), "login": STAFF_LOGIN}

        with self.in_odra():
            # The demo's resident: the account made on an earlier start, if any.
            resident = User.objects.filter(kind=User.Kind.RESIDENT).order_by("id").first()
            if resident is not None:
                self.keep_or_reissue(logins, "resident", resident)
            else:
                person = (
                    Person.objects.filter(titles__valid_to__isnull=True)
                    .exclude(first_name="")
                    .order_by("source_id")
                    .first()
                )
                if person is None:
                    raise SystemExit(f"No person with a current title in {CODE}'s data.")
        if resident is None:
            text = self.command("grant_access", "--cooperative", CODE, "--person", person.source_id)
            logins["resident"] = self.credentials(text)

        # The platform operator lives in the public schema.
        operator = User.objects.filter(login=OPERATOR_LOGIN).first()
        if operator is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(
                OPERATOR_LOGIN, password, display_name="Operator platformy"
            )
            logins["operator"] = {"login": OPERATOR_LOGIN, "password": password}
        else:
            self.keep_or_reissue(logins, "operator", operator)

        self.write_logins(logins)
        return logins

    # --- 6. the processes ---------------------------------------------------------------

    def start(self, name: str, args: list[str], **extra_env: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra_env}
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: Ctrl-C is ours to pass on
        )
        self.processes.append((name, proc))

    def serve(self) -> None:
        from django.db import connections

        connections.close_all()
        say("gunicorn, Celery worker, Celery beat")
        self.start(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "ebok_platform.wsgi:application",
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
            ],
            GUNICORN_BIND=self.bind,
            GUNICORN_WORKERS=os.environ.get("GUNICORN_WORKERS", "2"),
        )
        self.start(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "ebok_platform",
                "worker",
                "-Q",
                "default,syncs",
                "--concurrency",
                os.environ.get("CELERY_CONCURRENCY", "2"),
                "--loglevel",
                "INFO",
            ],
        )
        self.start(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "ebok_platform",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(self.data_dir / "celerybeat-schedule"),
            ],
        )
        detail(f"logs: {self.logs}/{{web,worker,beat}}.log")
        self.wait_for_web()

    def wait_for_web(self, timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.port}/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            request = urllib.request.Request(url, headers={"Host": f"localhost:{self.port}"})
            try:
                with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - our own server
                    return
            except urllib.error.HTTPError:
                return  # it answers; /healthz itself says what is down
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"The web server did not answer on {url} within {timeout:.0f}s.")

    def check_children(self) -> None:
        for name, proc in self.processes:
            if proc.poll() is not None:
                raise SystemExit(
                    f"{name} exited with code {proc.returncode}; see {self.logs / name}.log"
                )

    def stop_children(self) -> None:
        for _name, proc in self.processes:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.processes.clear()

    def stop_services(self) -> None:
        stopped = services.stop(self.data_dir)
        if stopped:
            detail(f"stopped embedded {' and '.join(stopped)} (data kept in {self.data_dir})")

    def banner(self, logins: dict, *, running: bool = True) -> None:
        from django.conf import settings

        base = settings.BASE_DOMAIN
        port = f":{self.port}" if self.port not in {"80"} else ""
        print()
        if running:
            print("e-BOK demo is running. Ctrl-C stops it; data stays in", self.data_dir)
        else:
            print("e-BOK demo is prepared (not started); data in", self.data_dir)
        print()
        print(f"  Residents' portal (ODRA):  http://{CODE.lower()}.{base}{port}/")
        print(f"  Staff panel (ODRA):        http://{CODE.lower()}.{base}{port}/panel/")
        print(f"  Operator console:          http://{base}{port}/")
        print(f"  Operator admin (Django):   http://{base}{port}/admin/")
        print()
        for role, label in [
            ("resident", "resident   "),
            ("staff", "staff admin"),
            ("operator", "operator   "),
        ]:
            entry = logins.get(role, {})
            login, password = entry.get("login", "?"), entry.get("password") or "?"
            note = NOTES.get(entry.get("note", ""), "")
            if role == "operator" and entry.get("note") == "changed":
                note = "(changed since; manage.py changepassword {login})"
            if note:
                password = note.format(login=login)
            print(f"  {label}  login: {login:<22} password: {password}")
        print()
        print("  Issued passwords must be changed at the first login; after a change,")
        print(f"  the new one is yours to remember ({self.logins_file} keeps the issued one).")
        print("  Staff and operators also set up two-step verification at their first login")
        print("  (a six-digit code from any authenticator app); sign operators in at the")
        print("  console first, the admin then asks for the code as well.")
        print(flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/demo", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "demo"))
    parser.add_argument("--bind", default=os.environ.get("DEMO_BIND", "0.0.0.0:8000"))
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="set everything up, print the logins, start no processes",
    )
    args = parser.parse_args(argv)
    from django.core.management.base import CommandError

    demo = Demo(Path(args.data_dir).resolve(), args.bind)

    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    # SIGINT too: a shell that starts us in the background would have it ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = time.monotonic()
    try:
        demo.provide_services()
        demo.check_commands()
        demo.migrate()
        demo.onboard()
        demo.seed()
        logins = demo.accounts()
        if args.prepare_only:
            demo.banner(logins, running=False)
            return 0
        demo.serve()
        detail(f"ready in {time.monotonic() - started:.0f}s")
        demo.banner(logins)
        while True:
            demo.check_children()
            time.sleep(1)
    except KeyboardInterrupt:
        print()
        say("stopping")
        return 0
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        demo.stop_children()
        demo.stop_services()


if __name__ == "__main__":
    sys.exit(main())
