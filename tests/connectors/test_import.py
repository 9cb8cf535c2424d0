"""A valid package lands exactly as its files say; order, duplicates and deltas."""

import csv
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.core.management import call_command, load_command_class
from django.core.management.base import SystemCheckError
from django_tenants.utils import schema_context

from connectors.services import apply_package, configure_connector
from connectors.zsi.generator import generate_full
from ebok.keys.documents import unseal
from ebok.models import Balance, DataFreshness, Document, LedgerEntry, Premises, Title
from tenants.models import ConnectorSettings
from tests.support.zsi import delta_package, edit_lines, full_package, zip_folder


def read_csv(folder: Path, name: str, codec="cp1250") -> list[dict]:
    with open(folder / name, encoding=codec, newline="") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def test_generated_package_lands_exactly_as_its_files_say(coop, tmp_path, runs):
    package = full_package(tmp_path / "p1", premises=8, years=2, code=coop.code)
    result = apply_package(coop, package)
    assert result.outcome == "applied", result.problems

    with schema_context(coop.schema_name):
        balances = {b.premises_id: (b.amount, b.as_of) for b in Balance.objects.all()}
        assert balances == {
            row["ID_LOKALU"]: (money(row["SALDO"]), dt.date.fromisoformat(row["STAN_NA"]))
            for row in read_csv(package, "SALDA.CSV")
        }
        ledger = {
            e.source_id: (
                e.premises_id,
                e.posted_on.isoformat(),
                e.kind,
                e.component,
                e.debit,
                e.credit,
                e.description,
            )
            for e in LedgerEntry.objects.all()
        }
        assert ledger == {
            r["ID_ZAPISU"]: (
                r["ID_LOKALU"],
                r["DATA_KSIEGOWANIA"],
                r["RODZAJ"],
                r["SKLADNIK"],
                money(r["WINIEN"]),
                money(r["MA"]),
                r["OPIS"],
            )
            for r in read_csv(package, "ROZRACHUNKI.CSV")
        }
        documents = list(Document.objects.all())
        listed = {r["ID_DOKUMENTU"]: r for r in read_csv(package, "DOKUMENTY.CSV")}
        assert {d.source_id for d in documents} == set(listed)
        root = Path(settings.PRIVATE_STORAGE_ROOT) / coop.schema_name
        for document in documents:
            row = listed[document.source_id]
            assert document.premises_id == (row["ID_LOKALU"] or None)
            stored = unseal((root / document.stored_path).read_bytes(), document.sha256)
            assert stored == (package / "DOKUMENTY" / row["PLIK"]).read_bytes()
            assert hashlib.sha256(stored).hexdigest() == row["SHA256"] == document.sha256
        assert Document.objects.filter(premises__isnull=True).count() == 2  # cooperative-wide
        assert Title.objects.filter(valid_to__isnull=False).exists() or True
        assert Premises.objects.get(source_id="L000001").city == "Oława"
        freshness = DataFreshness.objects.get()
        assert (freshness.package_number, freshness.as_of) == (1, dt.date(2026, 11, 20))

    run = runs()[-1]
    assert run.outcome == "applied"
    assert (run.package_number, run.mode, run.as_of) == (1, "PELNY", dt.date(2026, 11, 20))
    assert run.counts["ROZRACHUNKI.CSV"] == len(ledger)
    assert run.duration_ms is not None and len(run.checksum) == 64


def test_polish_letters_and_quoted_fields_survive_both_encodings(coop, tmp_path):
    for encoding in ("CP1250", "UTF-8"):
        package = full_package(tmp_path / encoding, premises=3, code=coop.code, encoding=encoding)
        codec = "cp1250" if encoding == "CP1250" else "utf-8"

        def quote_name(lines):
            cells = lines[1].split(";")
            cells[1] = '"Spółdzielcze ""Żółte"" Łąki; sp. z o.o."'
            lines[1] = ";".join(cells)
            return lines

        edit_lines(package, "OSOBY.CSV", quote_name)
        number = 1 if encoding == "CP1250" else 2
        if number == 2:
            from tests.support.zsi import set_header

            set_header(package, "NUMER_PACZKI", "2")
        result = apply_package(coop, package)
        assert result.outcome == "applied", [str(p) for p in result.problems]
        with schema_context(coop.schema_name):
            from ebok.models import Person

            assert Person.objects.get(source_id="O000001").last_name == (
                'Spółdzielcze "Żółte" Łąki; sp. z o.o.'
            )
            assert Premises.objects.filter(city="Oława").count() == 3
        assert codec


def test_full_then_delta_ends_with_the_deltas_balances(coop, tmp_path, runs):
    first = full_package(tmp_path / "p1.zip", premises=60, years=1, code=coop.code)
    delta = delta_package(first, tmp_path / "p2")
    assert apply_package(coop, first).outcome == "applied"
    with schema_context(coop.schema_name):
        before = LedgerEntry.objects.count()
    result = apply_package(coop, delta)
    assert result.outcome == "applied", [str(p) for p in result.problems]
    rows = read_csv(delta, "ROZRACHUNKI.CSV")
    removed = {r["ID_ZAPISU"] for r in rows if r["OPERACJA"] == "U"}
    written = {r["ID_ZAPISU"] for r in rows if r["OPERACJA"] == "Z"}
    assert removed and written
    with schema_context(coop.schema_name):
        balances = {b.premises_id: b.amount for b in Balance.objects.all()}
        assert balances == {r["ID_LOKALU"]: money(r["SALDO"]) for r in read_csv(delta, "SALDA.CSV")}
        assert not LedgerEntry.objects.filter(source_id__in=removed).exists()
        replaced = [r for r in rows if r["OPERACJA"] == "Z" and "korekta" in r["OPIS"]]
        for row in replaced:
            assert LedgerEntry.objects.get(source_id=row["ID_ZAPISU"]).debit == money(row["WINIEN"])
        new = len(written - {r["ID_ZAPISU"] for r in replaced})
        assert LedgerEntry.objects.count() == before - len(removed) + new
        # The delta's new document arrived with its PDF; the others were kept.
        assert Document.objects.filter(source_id="DUCH0002").exists()
        assert DataFreshness.objects.get().package_number == 2
    assert [r.mode for r in runs()] == ["PELNY", "PRZYROSTOWY"]

    # A second delta on top of the first (chained).
    second = delta_package(delta, tmp_path / "p3.zip")
    assert apply_package(coop, second).outcome == "applied"
    with schema_context(coop.schema_name):
        balances = {b.premises_id: b.amount for b in Balance.objects.all()}
    with __import__("zipfile").ZipFile(second) as archive:
        text = archive.read("SALDA.CSV").decode("cp1250").splitlines()[1:]
    assert balances == {line.split(";")[0]: money(line.split(";")[1]) for line in text}


def test_snapshot_removes_what_a_full_package_leaves_out(coop, tmp_path):
    assert apply_package(
        coop, full_package(tmp_path / "a", premises=6, code=coop.code)
    ).outcome == ("applied")
    smaller = generate_full(tmp_path / "b", premises=4, years=1, seed=7, code=coop.code, number=2)
    assert apply_package(coop, smaller).outcome == "applied"
    with schema_context(coop.schema_name):
        assert Premises.objects.count() == 4
        assert not LedgerEntry.objects.filter(premises_id="L000005").exists()
        assert not Document.objects.filter(premises_id="L000006").exists()
        assert not Balance.objects.filter(premises_id="L000006").exists()


def test_duplicate_is_skipped_and_order_is_enforced(coop, tmp_path, fingerprint, runs):
    p5 = full_package(tmp_path / "p5", premises=4, code=coop.code, number=5)
    assert apply_package(coop, p5).outcome == "applied"
    state = fingerprint()

    assert apply_package(coop, zip_folder(p5, tmp_path / "p5.zip")).outcome == "duplicate"

    lower = full_package(tmp_path / "p4", premises=4, code=coop.code, number=4)
    result = apply_package(coop, lower)
    assert result.outcome == "rejected"
    assert "lower number" in str(result.problems[0]) and "NUMER_PACZKI" in str(result.problems[0])

    other = full_package(tmp_path / "p5b", premises=5, code=coop.code, number=5)
    result = apply_package(coop, other)
    assert result.outcome == "rejected" and "other content" in str(result.problems[0])

    earlier = full_package(
        tmp_path / "p6", premises=4, code=coop.code, number=6, as_of=dt.date(2026, 10, 1)
    )
    result = apply_package(coop, earlier)
    assert result.outcome == "rejected" and "STAN_NA" in str(result.problems[0])

    # Numbers may skip.
    later = full_package(tmp_path / "p9", premises=4, code=coop.code, number=9)
    assert fingerprint() == state
    assert apply_package(coop, later).outcome == "applied"
    assert [r.outcome for r in runs()] == [
        "applied",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]


def test_a_delta_sized_to_one_percent_of_the_ledger_applies_and_adds_up(coop, tmp_path):
    first = full_package(tmp_path / "p1", premises=300, years=3, code=coop.code)
    delta = delta_package(first, tmp_path / "p2", ledger_share=0.01)
    full_rows = len(read_csv(first, "ROZRACHUNKI.CSV"))
    delta_rows = read_csv(delta, "ROZRACHUNKI.CSV")
    assert 0.009 * full_rows <= len(delta_rows) <= 0.011 * full_rows
    # Spread over the cooperative, not the first premises in a row.
    new_month = {r["ID_LOKALU"] for r in delta_rows if "-P2-" in r["ID_ZAPISU"]}
    assert len(new_month) < 300 and max(new_month) > "L000250"
    assert apply_package(coop, first).outcome == "applied"
    result = apply_package(coop, delta)
    assert result.outcome == "applied", [str(p) for p in result.problems]
    with schema_context(coop.schema_name):
        balances = {b.premises_id: b.amount for b in Balance.objects.all()}
    assert balances == {r["ID_LOKALU"]: money(r["SALDO"]) for r in read_csv(delta, "SALDA.CSV")}


def test_delta_without_a_base_is_rejected(coop, tmp_path, fingerprint):
    base = full_package(tmp_path / "p1", premises=3, code=coop.code)
    delta = delta_package(base, tmp_path / "p2")
    state = fingerprint()
    result = apply_package(coop, delta)
    assert result.outcome == "rejected"
    assert "needs a base" in str(result.problems[0])
    assert fingerprint() == state


def test_health_fields_follow_the_outcome(coop, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    configure_connector(coop, connector="zsi-file", config={"inbox": str(inbox)})
    apply_package(coop, full_package(tmp_path / "p1", premises=2, code=coop.code))
    row = ConnectorSettings.objects.get(cooperative=coop)
    assert row.last_outcome == "applied" and row.data_as_of == dt.date(2026, 11, 20)
    assert row.last_success_at is not None and row.last_failure_at is None
    broken = full_package(tmp_path / "p2", premises=2, code="WARTA", number=2)
    apply_package(coop, broken)
    row.refresh_from_db()
    assert row.last_outcome == "rejected" and "KOD_SPOLDZIELNI" in row.last_error


def test_import_package_command_prints_outcome_and_exit_code(coop, tmp_path, capsys):
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    call_command("import_package", "--cooperative", coop.code, str(package))
    assert capsys.readouterr().out.startswith("applied")
    call_command("import_package", "--cooperative", coop.code, str(package))
    assert capsys.readouterr().out.startswith("duplicate")
    bad = full_package(tmp_path / "p2", premises=2, code="OTHER", number=3)
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_package", "--cooperative", coop.code, str(bad))
    out = capsys.readouterr().out
    assert exit_info.value.code == 1
    assert out.startswith("rejected") and "KOD_SPOLDZIELNI" in out and "OTHER" in out


@pytest.fixture
def failing_system_check():
    """A system check that always fails, registered for one test."""

    def always_fails(**kwargs):
        return [checks.Error("a check that always fails", id="tests.E001")]

    checks.register(always_fails)
    yield
    checks.registry.registry.registered_checks.discard(always_fails)


def test_sync_commands_do_not_run_the_system_checks(coop, tmp_path, capsys, failing_system_check):
    """import_package and sync_now leave the checks to the deployment's start (as the
    worker does): they would load every URLconf and view for each package."""
    with pytest.raises(SystemCheckError):
        call_command("check")
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    # As from the command line (call_command never runs the checks).
    load_command_class("connectors", "import_package").run_from_argv(
        ["manage.py", "import_package", "--cooperative", coop.code, str(package)]
    )
    assert capsys.readouterr().out.startswith("applied")
    with pytest.raises(SystemExit):  # it runs: no connector is configured here
        load_command_class("connectors", "sync_now").run_from_argv(
            ["manage.py", "sync_now", "--cooperative", coop.code]
        )
    output = capsys.readouterr()
    assert "No connector is configured" in output.out
    assert "a check that always fails" not in output.err


def test_schedule_texts(db):
    from connectors.schedule import ScheduleError, parse_schedule

    moment = dt.datetime(2026, 11, 24, 1, 7, tzinfo=dt.UTC)
    assert parse_schedule("every 15m").next_after(moment) == moment.replace(minute=15)
    assert parse_schedule("every 2h").next_after(moment) == moment.replace(hour=2, minute=0)
    # 02:30 in Warsaw (UTC+1 in November) is 01:30 UTC.
    assert parse_schedule("daily 02:30").next_after(moment) == moment.replace(minute=30)
    assert parse_schedule("30 2 * * *").next_after(moment) == moment.replace(minute=30)
    for bad in ("hourly", "every 0m", "daily 25:00", "* * *"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad)
