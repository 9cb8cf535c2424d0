"""Every rejection rule of the contract (section 4): the package is rejected,
the error names the problem, and the previous package's data is untouched."""

import hashlib
import zipfile

import pytest

from connectors.services import apply_package
from connectors.zsi.generator import generate_full
from tests.support.zsi import (
    cell,
    edit_cell,
    edit_lines,
    header_values,
    relist,
    set_header,
    zip_folder,
)


@pytest.fixture
def base(coop, tmp_path, fingerprint):
    """Package 1 applied; returns a maker of package 2 (same data) to break."""
    first = generate_full(tmp_path / "p1", premises=5, years=1, seed=3, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    state = fingerprint()

    def second(**kwargs):
        return generate_full(
            tmp_path / "p2", premises=5, years=1, seed=3, code=coop.code, number=2, **kwargs
        )

    return second, state


def rejected_with(coop, package, fingerprint, state, *fragments, runs=None):
    result = apply_package(coop, package)
    messages = [str(p) for p in result.problems]
    assert result.outcome == "rejected", messages
    assert any(all(f in m for f in fragments) for m in messages), messages
    assert fingerprint() == state
    return messages


def _set_plik_rows(folder, name, rows):
    lines = header_values(folder)
    lines = [
        f"PLIK={name};{rows};{line.split(';')[2]}" if line.startswith(f"PLIK={name};") else line
        for line in lines
    ]
    (folder / "NAGLOWEK.TXT").write_text("\r\n".join(lines) + "\r\n", "ascii")


def _raw_edit(folder, name, old: bytes, new: bytes):
    path = folder / name
    path.write_bytes(path.read_bytes().replace(old, new, 1))
    relist(folder, name)


def _swap_line(folder, name, line, value):
    def change(lines):
        lines[line - 1] = value
        return lines

    edit_lines(folder, name, change)


def _add_document(folder):
    edit_lines(
        folder,
        "DOKUMENTY.CSV",
        lambda lines: lines + [f"DNEW;;INNE;Nowy;2026-11-01;NEW.pdf;{'a' * 64}"],
    )


def _wrong_pdf(folder):
    (folder / "DOKUMENTY" / "D000001.pdf").write_bytes(b"%PDF-1.4 something else")


def _duplicate_ledger_id(folder):
    first = cell(folder, "ROZRACHUNKI.CSV", 2, "ID_ZAPISU")
    edit_cell(folder, "ROZRACHUNKI.CSV", 3, "ID_ZAPISU", first)


def _both_sides(folder):
    edit_cell(folder, "ROZRACHUNKI.CSV", 3, "MA", "1,00")


def _bad_nrb(folder):
    value = cell(folder, "LOKALE.CSV", 2, "RACHUNEK")
    edit_cell(folder, "LOKALE.CSV", 2, "RACHUNEK", value[:-1] + str((int(value[-1]) + 1) % 10))


def _bad_kwota(folder):
    edit_cell(folder, "NALICZENIA.CSV", 2, "KWOTA", "1,00")


def _broken_balance(folder):
    edit_cell(folder, "SALDA.CSV", 3, "SALDO", "12345,67")


CASES = {
    "unknown FORMAT": (lambda f: set_header(f, "FORMAT", "ZSI-XYZ"), ["FORMAT", "ZSI-XYZ"]),
    "unknown WERSJA": (lambda f: set_header(f, "WERSJA", "2"), ["NAGLOWEK.TXT", "WERSJA", "'2'"]),
    "wrong KOD_SPOLDZIELNI": (
        lambda f: set_header(f, "KOD_SPOLDZIELNI", "WARTA"),
        ["KOD_SPOLDZIELNI", "WARTA"],
    ),
    "unknown header key": (lambda f: set_header(f, "AUTOR", "x"), ["AUTOR", "unknown key"]),
    "listed file missing": (
        lambda f: (f / "ODCZYTY.CSV").unlink(),
        ["NAGLOWEK.TXT", "PLIK", "ODCZYTY.CSV", "missing"],
    ),
    "file not listed": (
        lambda f: (f / "UWAGI.CSV").write_bytes(b"A;B\r\n"),
        ["UWAGI.CSV", "not listed"],
    ),
    "required file not listed": (
        lambda f: (
            (f / "NALICZENIA.CSV").unlink(),
            (f / "NAGLOWEK.TXT").write_text(
                "\r\n".join(
                    line for line in header_values(f) if not line.startswith("PLIK=NALICZENIA")
                )
                + "\r\n"
            ),
        ),
        ["required file", "NALICZENIA.CSV"],
    ),
    "wrong row count": (
        lambda f: _set_plik_rows(f, "LOKALE.CSV", 9),
        ["LOKALE.CSV", "lists 9 rows", "has 5"],
    ),
    "wrong SHA-256": (
        lambda f: edit_lines(
            f, "OSOBY.CSV", lambda ls: ls[:1] + [ls[1] + "x"] + ls[2:], relisted=False
        ),
        ["OSOBY.CSV", "SHA-256 differs"],
    ),
    "CP1250 declared as UTF-8": (
        lambda f: set_header(f, "KODOWANIE", "UTF-8"),
        ["not valid UTF-8", "line", "column", "CP1250"],
    ),
    "undefined CP1250 byte": (
        lambda f: _raw_edit(f, "OSOBY.CSV", b"O000001;", b"O000001;\x98"),
        ["OSOBY.CSV", "line 2", "column NAZWISKO", "0x98"],
    ),
    "malformed number": (
        lambda f: edit_cell(f, "ROZRACHUNKI.CSV", 3, "WINIEN", "12.50"),
        ["ROZRACHUNKI.CSV", "line 3", "column WINIEN", "'12.50'", "malformed number"],
    ),
    "thousands separator": (
        lambda f: edit_cell(f, "SALDA.CSV", 2, "SALDO", "1 234,56"),
        ["SALDA.CSV", "line 2", "SALDO", "'1 234,56'"],
    ),
    "impossible date": (
        lambda f: edit_cell(f, "ROZRACHUNKI.CSV", 4, "DATA_KSIEGOWANIA", "2026-02-30"),
        ["ROZRACHUNKI.CSV", "line 4", "DATA_KSIEGOWANIA", "2026-02-30", "malformed date"],
    ),
    "malformed date": (
        lambda f: edit_cell(f, "TYTULY.CSV", 2, "OD", "2026-13-01"),
        ["TYTULY.CSV", "line 2", "column OD", "2026-13-01"],
    ),
    "unknown code": (
        lambda f: edit_cell(f, "LOKALE.CSV", 2, "RODZAJ", "X"),
        ["LOKALE.CSV", "line 2", "column RODZAJ", "'X'", "unknown code"],
    ),
    "unknown ledger kind": (
        lambda f: edit_cell(f, "ROZRACHUNKI.CSV", 5, "RODZAJ", "ZZZ"),
        ["ROZRACHUNKI.CSV", "line 5", "RODZAJ", "ZZZ"],
    ),
    "U in a PELNY package": (
        lambda f: edit_cell(f, "ROZRACHUNKI.CSV", 2, "OPERACJA", "U"),
        ["line 2", "OPERACJA", "PELNY"],
    ),
    "both WINIEN and MA": (_both_sides, ["line 3", "exactly one of WINIEN and MA"]),
    "duplicate premises id": (
        lambda f: edit_cell(f, "LOKALE.CSV", 3, "ID_LOKALU", "L000001"),
        ["LOKALE.CSV", "line 3", "duplicate id", "L000001"],
    ),
    "duplicate ledger id": (_duplicate_ledger_id, ["ROZRACHUNKI.CSV", "line 3", "duplicate id"]),
    "unknown premises": (
        lambda f: edit_cell(f, "ROZRACHUNKI.CSV", 6, "ID_LOKALU", "L999999"),
        ["ROZRACHUNKI.CSV", "line 6", "ID_LOKALU", "L999999", "no such premises"],
    ),
    "unknown person": (
        lambda f: edit_cell(f, "TYTULY.CSV", 2, "ID_OSOBY", "O999999"),
        ["TYTULY.CSV", "line 2", "ID_OSOBY", "O999999", "no such person"],
    ),
    "premises without balance": (
        lambda f: edit_lines(f, "SALDA.CSV", lambda ls: ls[:-1]),
        ["LOKALE.CSV", "no row in SALDA.CSV", "L000005"],
    ),
    "balance rule broken": (
        _broken_balance,
        ["SALDA.CSV", "line 3", "column SALDO", "12345,67", "not the sum"],
    ),
    "balance STAN_NA differs": (
        lambda f: edit_cell(f, "SALDA.CSV", 2, "STAN_NA", "2026-11-19"),
        ["SALDA.CSV", "line 2", "STAN_NA", "differs"],
    ),
    "KWOTA not PODSTAWA x STAWKA": (_bad_kwota, ["NALICZENIA.CSV", "line 2", "KWOTA"]),
    "bad NRB check digits": (_bad_nrb, ["LOKALE.CSV", "line 2", "RACHUNEK", "NRB"]),
    "document missing": (_add_document, ["DOKUMENTY.CSV", "PLIK", "NEW.pdf", "missing"]),
    "document with a wrong hash": (_wrong_pdf, ["DOKUMENTY.CSV", "SHA256", "SHA-256 is"]),
    "PDF not listed": (
        lambda f: (f / "DOKUMENTY" / "X.pdf").write_bytes(b"%PDF-1.4"),
        ["DOKUMENTY/X.pdf", "not listed"],
    ),
    "wrong column names": (
        lambda f: _swap_line(f, "SALDA.CSV", 1, "ID_LOKALU;KWOTA;STAN_NA"),
        ["SALDA.CSV", "line 1", "ID_LOKALU;KWOTA;STAN_NA", "first line"],
    ),
    "wrong number of fields": (
        lambda f: _swap_line(f, "SALDA.CSV", 3, "L000002;1,00"),
        ["SALDA.CSV", "line 3", "wrong number of fields"],
    ),
    "blank line": (
        lambda f: edit_lines(f, "SALDA.CSV", lambda ls: ls[:3] + [""] + ls[3:]),
        ["SALDA.CSV", "line 4"],
    ),
    "empty file": (
        lambda f: ((f / "SALDA.CSV").write_bytes(b""), relist(f, "SALDA.CSV")),
        ["SALDA.CSV", "empty"],
    ),
    "value too long": (
        lambda f: edit_cell(f, "LOKALE.CSV", 2, "KOD_POCZTOWY", "55-200-55-200"),
        ["LOKALE.CSV", "line 2", "KOD_POCZTOWY", "too long"],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_broken_package_is_rejected_and_changes_nothing(case, base, coop, fingerprint):
    make_second, state = base
    folder = make_second()
    breaker, fragments = CASES[case]
    breaker(folder)
    rejected_with(coop, folder, fingerprint, state, *fragments)


def test_a_wrong_pdf_is_reported_beside_a_wrong_value(base, coop, fingerprint):
    """PDFs are stored while the server checks the rows: a package rejected for a row
    still names its PDF's problem, and nothing of it is kept."""
    make_second, state = base
    folder = make_second()
    _wrong_pdf(folder)
    _both_sides(folder)
    messages = rejected_with(coop, folder, fingerprint, state, "DOKUMENTY.CSV", "SHA-256 is")
    assert any("ROZRACHUNKI.CSV" in m and "line 3" in m for m in messages), messages


def test_utf8_declared_as_cp1250(base, coop, fingerprint):
    make_second, state = base
    folder = make_second(encoding="UTF-8")
    set_header(folder, "KODOWANIE", "CP1250")
    rejected_with(coop, folder, fingerprint, state, "UTF-8 but the header declares CP1250", "line")


def test_the_unbroken_second_package_applies(base, coop):
    make_second, _state = base
    assert apply_package(coop, make_second()).outcome == "applied"


def test_delta_removing_a_missing_entry(base, coop, fingerprint, tmp_path):
    from tests.support.zsi import delta_package

    _make, state = base
    delta = delta_package(tmp_path / "p1", tmp_path / "d2")
    edit_lines(delta, "ROZRACHUNKI.CSV", lambda ls: ls + ["L000001-99999;L000001;;;;;;;;;U"])
    rejected_with(
        coop,
        delta,
        fingerprint,
        state,
        "ROZRACHUNKI.CSV",
        "ID_ZAPISU",
        "L000001-99999",
        "does not exist",
    )


# --- ZIP safety -----------------------------------------------------------------------


def test_zip_slip_is_rejected(base, coop, fingerprint, tmp_path):
    make_second, state = base
    archive = zip_folder(make_second(), tmp_path / "slip.zip", {"../../evil.txt": b"x"})
    rejected_with(coop, archive, fingerprint, state, "../../evil.txt", "climbs out")


def test_absolute_path_in_zip_is_rejected(base, coop, fingerprint, tmp_path):
    make_second, state = base
    archive = zip_folder(make_second(), tmp_path / "abs.zip", {"/etc/cron.d/x": b"x"})
    rejected_with(coop, archive, fingerprint, state, "/etc/cron.d/x", "absolute")


def test_zip_bomb_over_the_limit_is_rejected(base, coop, fingerprint, tmp_path, settings):
    make_second, state = base
    folder = make_second()
    archive = tmp_path / "bomb.zip"
    zip_folder(folder, archive, {"DOKUMENTY/BOMB.pdf": b"\0" * 5_000_000})
    assert archive.stat().st_size < 200_000
    settings.ZSI_MAX_UNCOMPRESSED_BYTES = 1_000_000
    rejected_with(coop, archive, fingerprint, state, "bomb.zip", "more than the limit")


def test_zip_lying_about_sizes_is_stopped_while_extracting(base, coop, fingerprint, tmp_path):
    """The central directory says small; the member inflates to more."""
    make_second, state = base
    folder = make_second()
    archive = zip_folder(folder, tmp_path / "liar.zip")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("ROZRACHUNKI.CSV")
    # Patch the uncompressed size in the central directory and the local header.
    real = info.file_size.to_bytes(4, "little")
    fake = (100).to_bytes(4, "little")
    assert data.count(real) >= 1
    data = data.replace(real, fake)
    archive.write_bytes(bytes(data))
    rejected_with(coop, archive, fingerprint, state, "ROZRACHUNKI.CSV")


def test_too_many_files_is_rejected(base, coop, fingerprint, tmp_path, settings):
    make_second, state = base
    archive = zip_folder(make_second(), tmp_path / "many.zip")
    settings.ZSI_MAX_FILES = 5
    rejected_with(coop, archive, fingerprint, state, "more than the limit of 5")


def test_empty_zip_file_is_rejected(base, coop, fingerprint, tmp_path):
    _make, state = base
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    rejected_with(coop, empty, fingerprint, state, "empty.zip", "ZIP")


def test_header_sha_is_lowercase_hex(base, coop, fingerprint):
    make_second, state = base
    folder = make_second()
    sha = hashlib.sha256((folder / "LOKALE.CSV").read_bytes()).hexdigest()
    lines = [
        line.replace(sha, sha.upper()) if line.startswith("PLIK=LOKALE") else line
        for line in header_values(folder)
    ]
    (folder / "NAGLOWEK.TXT").write_text("\r\n".join(lines) + "\r\n")
    rejected_with(coop, folder, fingerprint, state, "NAGLOWEK.TXT", "PLIK", "SHA-256")
