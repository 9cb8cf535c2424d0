"""The account lifecycle as management commands, for scripting."""

import io
import subprocess
import sys

import pypdf
import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from ebok.accounts.models import User
from ebok.models import AuditEvent, ErasureRecord
from tests.support.audit_guard import audit_guard_off
from tests.support.processes import ROOT, process_env


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def credentials(lines):
    assert [line.split(": ", 1)[0] for line in lines] == ["login", "password"]
    return [line.split(": ", 1)[1] for line in lines]


def test_grant_prints_login_and_password_and_writes_the_letter(odra, in_schema, people, tmp_path):
    letter = tmp_path / "list.pdf"
    login, password = credentials(
        run("grant_access", "--cooperative", "odra", "--person", "O1", "--letter", str(letter))
    )
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(letter).pages)
    assert login in text and password in text and "Spółdzielnia" in text
    with in_schema(odra):
        account = User.objects.get(login=login)
        event = AuditEvent.objects.get(action="account.granted")
    assert account.person_source_id == "O1" and account.check_password(password)
    assert event.actor_login.startswith("cli")


def test_every_step_of_the_lifecycle_by_command(odra, in_schema, people):
    login, first = credentials(run("grant_access", "--cooperative", "ODRA", "--person", "O3"))
    (line,) = run("regenerate_password", "--cooperative", "ODRA", "--login", login)
    second = line.removeprefix("password: ")
    assert line.startswith("password: ") and second != first
    run("block_account", "--cooperative", "ODRA", "--login", login, "--reason", "misuse")
    with in_schema(odra):
        account = User.objects.get(login=login)
        assert (account.block_reason, account.check_password(second)) == ("misuse", True)
    run("unblock_account", "--cooperative", "ODRA", "--login", login)
    run(
        "erase_account",
        "--cooperative",
        "ODRA",
        "--login",
        login,
        "--reference",
        "L.dz. 9/2026",
        "--date",
        "2026-11-02",
    )
    with in_schema(odra):
        assert not User.objects.filter(login=login).exists()
        record = ErasureRecord.objects.get(person_source_id="O3")
    assert str(record.request_date) == "2026-11-02" and record.erased_by.startswith("cli")

    with pytest.raises(CommandError, match="O3"):  # erased: a new grant must be confirmed
        run("grant_access", "--cooperative", "ODRA", "--person", "O3")
    credentials(
        run("grant_access", "--cooperative", "ODRA", "--person", "O3", "--confirm-after-erasure")
    )


def test_create_staff_prints_login_and_password(odra, in_schema):
    login, password = credentials(
        run(
            "create_staff",
            "--cooperative",
            "ODRA",
            "--login",
            "Kierownik",
            "--role",
            "admin",
            "--email",
            "kierownik@odra.example",
        )
    )
    with in_schema(odra):
        staff = User.objects.get(login=login)
    assert login == "kierownik" and staff.kind == "staff" and staff.role == "admin"
    assert staff.check_password(password) and staff.must_change_password
    assert staff.email == "kierownik@odra.example"  # where the account's notices go


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grant_access", "--cooperative", "NIEMA", "--person", "O1"], "No cooperative"),
        (["grant_access", "--cooperative", "ODRA", "--person", "NOBODY"], "NOBODY"),
        (["regenerate_password", "--cooperative", "ODRA", "--login", "nikt"], "No account"),
        (["unblock_account", "--cooperative", "ODRA", "--login", "nikt"], "No account"),
        (
            [
                "erase_account",
                "--cooperative",
                "ODRA",
                "--login",
                "x",
                "--reference",
                "r",
                "--date",
                "2.11",
            ],
            "No account",
        ),
        (
            ["create_staff", "--cooperative", "ODRA", "--login", "a b", "--role", "admin"],
            "(?i)login",
        ),
        (
            ["create_staff", "--cooperative", "ODRA", "--login", "ab", "--role", "admin"]
            + ["--email", "nie-adres"],
            "nie-adres",
        ),
    ],
)
def test_failures_are_clear_errors(odra, people, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_failing_command_exits_non_zero_with_its_message_on_stderr(odra):
    result = subprocess.run(
        [sys.executable, "manage.py", "block_account", "--cooperative", "ODRA"]
        + ["--login", "nikt.taki", "--reason", "misuse"],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "No account with login nikt.taki." in result.stderr
    assert result.stdout == ""


def test_a_successful_command_exits_zero(django_db_blocker):
    result = subprocess.run(
        [sys.executable, "manage.py", "create_staff", "--cooperative", "ODRA"]
        + ["--login", "cli.sprawdzian", "--role", "viewer"],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
    )
    # The command committed its account: remove it so other tests see ODRA as it was.
    with django_db_blocker.unblock(), schema_context("odra"):
        User.objects.filter(login="cli.sprawdzian").delete()
        with audit_guard_off():  # the audit log itself refuses any DELETE
            AuditEvent.objects.filter(target_login="cli.sprawdzian").delete()
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["login", "password"]
