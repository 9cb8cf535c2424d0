"""The fast paths of the import: a PELNY ledger built beside the live one and
swapped in, unchanged files left alone, the delta's balance rule from stored
balances. Each must give exactly what the exact path gives."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from connectors.services import apply_package
from connectors.zsi.fast_ledger import convert
from ebok.models import LedgerEntry
from tests.support.zsi import delta_package, edit_cell, edit_lines, full_package

LEDGER = "ROZRACHUNKI.CSV"


def ledger_catalog(schema: str) -> dict:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s "
            "AND tablename = 'ebok_ledger_entry' ORDER BY 1",
            [schema],
        )
        indexes = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT conname, contype FROM pg_constraint WHERE conrelid = "
            "format('%%I.ebok_ledger_entry', %s::text)::regclass ORDER BY 1",
            [schema],
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT pg_get_serial_sequence(format('%%I.ebok_ledger_entry', %s::text), 'id')",
            [schema],
        )
        sequence = cur.fetchone()[0]
        cur.execute(
            "SELECT cache_size, increment_by FROM pg_sequences "
            "WHERE format('%%I.%%I', schemaname, sequencename) = %s",
            [sequence],
        )
        options = cur.fetchone()
    return {
        "indexes": indexes,
        "constraints": constraints,
        "sequence": sequence,
        "options": options,
    }


def test_full_package_swaps_in_a_ledger_with_the_models_names(coop, tmp_path, runs):
    before = ledger_catalog(coop.schema_name)
    first = full_package(tmp_path / "p1", premises=8, years=1, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    second = full_package(tmp_path / "p2", premises=9, years=1, code=coop.code, number=2)
    assert apply_package(coop, second).outcome == "applied"
    assert all(r.counts["changes"][LEDGER].get("replaced_table") for r in runs())
    # Same index, constraint and sequence names as the migrated table.
    assert ledger_catalog(coop.schema_name) == before
    assert set(before["indexes"]) == {
        "ebok_ledger_entry_pkey",
        "ledger_source_id_unique",
        "ledger_premises_posted",
    }
    with schema_context(coop.schema_name):
        entries = list(LedgerEntry.objects.order_by("id").values_list("id", flat=True))
        # ids follow the file's lines, and the identity continues after them.
        assert entries == list(range(1, len(entries) + 1))
        extra = LedgerEntry.objects.create(
            source_id="X-1",
            premises_id=LedgerEntry.objects.first().premises_id,
            posted_on="2026-01-01",
            kind="WPL",
            debit=0,
            credit=1,
        )
        assert extra.id == len(entries) + 1
        extra.delete()


def test_a_quoted_ledger_takes_the_exact_path_with_the_same_result(coop, tmp_path, runs):
    first = full_package(tmp_path / "p1", premises=4, years=1, code=coop.code)
    edit_cell(first, LEDGER, 2, "OPIS", '"Opis; z ""cudzysłowem"""')
    result = apply_package(coop, first)
    assert result.outcome == "applied", [str(p) for p in result.problems]
    assert "replaced_table" not in runs()[-1].counts["changes"][LEDGER]
    with schema_context(coop.schema_name):
        assert LedgerEntry.objects.filter(description='Opis; z "cudzysłowem"').exists()


def test_delta_leaves_unchanged_files_alone_and_checks_balances(coop, tmp_path, runs):
    first = full_package(tmp_path / "p1", premises=30, years=1, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    delta = delta_package(first, tmp_path / "p2")
    assert apply_package(coop, delta).outcome == "applied"
    changes = runs()[-1].counts["changes"]
    assert changes["LOKALE.CSV"] == {"unchanged": True}
    assert changes["NALICZENIA.CSV"] == {"unchanged": True}
    assert "unchanged" not in changes["SALDA.CSV"]
    # A delta whose SALDA disagrees with stored balances + the delta is rejected,
    # also for a premises the delta's ledger rows do not touch.
    broken = delta_package(delta, tmp_path / "p3")
    edit_cell(broken, "SALDA.CSV", 3, "SALDO", "1,23")
    result = apply_package(coop, broken)
    assert result.outcome == "rejected"
    assert any("not the sum" in str(p) and "line 3" in str(p) for p in result.problems)


GOOD = (
    b"A-1;L1;2026-01-01;2026-01-01;2026-01-10;NAL;EKSPL;Naliczenie;120,51;0,00;Z\r\n"
    b"A-2;L1;2024-02-29;;;WPL;;Wplata;0,00;100;Z\r\n"
    b"A-3;L1;2026-03-31;;;KOR;EKSPL;Storno;-3,5;0,00;Z\r\n"
)


def test_convert_gives_typed_rows():
    assert convert(GOOD) == (
        b"A-1;L1;2026-01-01;2026-01-01;2026-01-10;NAL;EKSPL;Naliczenie;120.51;0.00\n"
        b"A-2;L1;2024-02-29;;;WPL;;Wplata;0.00;100\n"
        b"A-3;L1;2026-03-31;;;KOR;EKSPL;Storno;-3.5;0.00\n"
    )


@pytest.mark.parametrize(
    "old, new",
    [
        (b"2024-02-29", b"2026-02-29"),  # not a leap year
        (b"2026-03-31", b"2026-04-31"),
        (b"2026-01-10", b"2026-1-10"),
        (b"2026-01-01;2026", b"0999-01-01;2026"),
        (b"120,51", b"120.51"),
        (b"120,51", b"120,515"),
        (b"120,51", b"-120,51"),  # negative outside KOR
        (b"120,51", b"1234567890123,00"),
        (b";0,00;100", b";1,00;100"),  # both sides
        (b";NAL;", b";NAX;"),
        (b";WPL;;", b";WPL;X;"),
        (b";NAL;EKSPL;", b";NAL;;"),
        (b";Z\r\nA-2", b";U\r\nA-2"),
        (b"Naliczenie", b'"Naliczenie"'),  # quotes: the exact path decides
        (b";L1;2026-01-01", b";L1;2026-01-01;x"),
        (b"A-1;", b";"),
    ],
)
def test_convert_declines_anything_unusual(old, new):
    assert convert(GOOD.replace(old, new, 1)) is None


def test_delta_ledger_rules_hold_on_the_streamed_check(coop, tmp_path):
    first = full_package(tmp_path / "p1", premises=60, years=1, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    delta = delta_package(first, tmp_path / "p2")
    rows = (delta / LEDGER).read_bytes().decode("cp1250").split("\r\n")
    removal = next(i for i, row in enumerate(rows) if row.endswith(";U")) + 1
    written = next(i for i, row in enumerate(rows) if row.endswith(";Z")) + 1
    # A removal row's other fields mean nothing; a written row's must be well-formed.
    edit_cell(delta, LEDGER, removal, "WINIEN", "bez znaczenia")
    broken = tmp_path / "p2-broken"
    __import__("shutil").copytree(delta, broken)
    edit_cell(broken, LEDGER, written, "MA", "1.00")
    result = apply_package(coop, broken)
    assert result.outcome == "rejected"
    assert any(
        f"line {written}" in str(p) and "MA" in str(p) and "'1.00'" in str(p)
        for p in result.problems
    ), [str(p) for p in result.problems]
    result = apply_package(coop, delta)
    assert result.outcome == "applied", [str(p) for p in result.problems]


def test_delta_rechecks_an_unchanged_file_when_what_it_refers_to_changed(coop, tmp_path):
    first = full_package(tmp_path / "p1", premises=20, years=1, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    delta = delta_package(first, tmp_path / "p2")
    titles = (delta / "TYTULY.CSV").read_bytes().decode("cp1250").split("\r\n")
    person = titles[1].split(";")[0]
    # OSOBY.CSV loses a person; TYTULY.CSV (byte-identical to the base) still names them.
    edit_lines(delta, "OSOBY.CSV", lambda ls: [ln for ln in ls if not ln.startswith(person + ";")])
    result = apply_package(coop, delta)
    assert result.outcome == "rejected"
    assert any(
        "TYTULY.CSV" in str(p) and "line 2" in str(p) and "no such person" in str(p)
        for p in result.problems
    ), [str(p) for p in result.problems]
