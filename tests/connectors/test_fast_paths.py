"""The fast paths of the import: a PELNY ledger built beside the live one and
swapped in, unchanged files left alone, the delta's balance rule from stored
balances. Each must give exactly what the exact path gives."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from connectors.services import apply_package
from connectors.zsi.fast_ledger import PremisesSums, convert
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
            "SELECT pg_get_serial_sequence(format('%%I.ebok_ledger_entry', %s::text), 'position')",
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
    # Keyed by ID_ZAPISU: two indexes, no surrogate key (decision 0815).
    assert set(before["indexes"]) == {"ebok_ledger_entry_pkey", "ledger_premises_posted"}
    assert before["constraints"] == [("ebok_ledger_entry_pkey", "p")]
    with schema_context(coop.schema_name):
        entries = list(LedgerEntry.objects.order_by("position").values_list("position", flat=True))
        # Positions follow the file's lines, and the identity continues after them.
        assert entries == list(range(1, len(entries) + 1))
        extra = LedgerEntry.objects.create(
            source_id="X-1",
            premises_id=LedgerEntry.objects.first().premises_id,
            posted_on="2026-01-01",
            kind="WPL",
            debit=0,
            credit=1,
        )
        assert extra.position == len(entries) + 1
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


def test_sums_gathered_while_converting_match_decimal_arithmetic():
    """The balance rule's totals per premises come from the stream (no scan of the
    loaded ledger): every amount form, corrections, entries after STAN_NA, premises
    whose rows are split between chunks or not adjacent, non-ASCII ids."""
    rows = [
        "E1;L1;2026-01-01;;;NAL;EKSPL;a;93,13;0,00;Z",
        "E2;L1;2026-01-02;;;WPL;;b;0;5,1;Z",
        "E3;Ł2;2026-01-03;;;KOR;EKSPL;c;-12,5;0;Z",
        "E4;L1;2026-02-01;;;NAL;EKSPL;d;7;0;Z",
        "E5;L9;2026-03-01;;;NAL;EKSPL;e;1,00;0;Z",
        "E6;Ł2;2026-01-31;;;NAL;EKSPL;f;0,01;0;Z",
        "E7;L1;2026-01-05;;;NAL;EKSPL;g;999999999999,99;0;Z",
        "E8;Ł2;2026-01-04;;;ODS;;h;0,1;0;Z",
        "E9;L1;2026-01-06;;;WPL;;i;0;100000000000;Z",
    ]
    as_of = date(2026, 1, 31)
    expected: dict[str, Decimal] = {}
    for row in rows:
        cells = row.split(";")
        amount = Decimal(cells[8].replace(",", ".")) - Decimal(cells[9].replace(",", "."))
        counted = date.fromisoformat(cells[2]) <= as_of
        expected[cells[1]] = expected.get(cells[1], Decimal(0)) + (amount if counted else 0)
    sums = PremisesSums(as_of)
    for part in (rows[:3], rows[3:]):
        chunk = "".join(r + "\r\n" for r in part).encode("cp1250")
        assert convert(chunk, sums) is not None
    gathered = {}
    for line in sums.lines():
        premises, total = line.decode("cp1250").rstrip("\n").split(";")
        gathered[premises] = Decimal(total)
    assert gathered == expected
    assert gathered["L9"] == 0  # only entries after STAN_NA: present, with nothing counted
    assert gathered["L1"] == Decimal("93.13") - Decimal("5.10") + Decimal("999999999999.99") - (
        Decimal("100000000000")
    )


def test_sums_of_a_ledger_not_grouped_by_premises():
    """Premises alternating row by row (more runs than the chunk groups in Python)."""
    premises = ["L1", "L22", "Ł3", "L1X"]
    rows = [
        f"E{n};{premises[n % 4]};2026-01-{1 + n % 28:02d};;;WPL;;x;0;{n},{n % 100:02d};Z"
        for n in range(1, 400)
    ]
    expected: dict[str, Decimal] = {}
    for n in range(1, 400):
        amount = -Decimal(f"{n}.{n % 100:02d}")
        expected[premises[n % 4]] = expected.get(premises[n % 4], Decimal(0)) + amount
    sums = PremisesSums(date(2026, 1, 31))
    assert convert("".join(r + "\n" for r in rows).encode("cp1250"), sums) is not None
    gathered = {}
    for line in sums.lines():
        key, total = line.decode("cp1250").rstrip("\n").split(";")
        gathered[key] = Decimal(total)
    assert gathered == expected


def test_a_balance_one_grosz_off_is_rejected_on_the_fast_path(coop, tmp_path, runs):
    first = full_package(tmp_path / "p1", premises=4, years=1, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    second = full_package(tmp_path / "p2", premises=4, years=1, code=coop.code, number=2)
    balances = (second / "SALDA.CSV").read_text(encoding="cp1250").splitlines()
    cells = balances[1].split(";")
    saldo = Decimal(cells[1].replace(",", ".")) + Decimal("0.01")
    edit_cell(second, "SALDA.CSV", 2, "SALDO", f"{saldo:.2f}".replace(".", ","))
    result = apply_package(coop, second)
    assert result.outcome == "rejected"
    # Only the edited balance: every other premises' sum matched to the grosz.
    assert [(p.file, p.line, p.column) for p in result.problems] == [("SALDA.CSV", 2, "SALDO")]
    assert runs()[0].counts["changes"][LEDGER]["replaced_table"]
    with schema_context(coop.schema_name):
        assert LedgerEntry.objects.count() == runs()[0].counts[LEDGER]
