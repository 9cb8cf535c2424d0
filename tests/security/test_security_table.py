"""docs/SECURITY.md keeps its promise: every ASVS row is met or does not apply, and every
test or document a row names exists (a renamed test fails here, not in an audit)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "SECURITY.md"
ROW = re.compile(r"^\| (\d+)\.(\d+)\.(\d+) \| ([^|]+?) \| (.+) \|$")
# `S/test_x.py::test_y` (tests/security/), `T/dir/test_x.py::test_y` (tests/), and
# `::test_z` for another test of the file named just before.
TEST = re.compile(r"`(?:([ST])/([\w/]+\.py))?::(\w+)`")
DOCUMENT = re.compile(r"`(docs/[\w./-]+)`")
FOLDERS = {"S": ROOT / "tests" / "security", "T": ROOT / "tests"}


def rows() -> list[tuple[str, int, str, str]]:
    found = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            chapter, section, item, status, text = match.groups()
            found.append((f"{chapter}.{section}.{item}", int(chapter), status, text))
    return found


def named_tests(text: str) -> list[tuple[Path, str]]:
    tests, file = [], None
    for folder, path, name in TEST.findall(text):
        if path:
            file = FOLDERS[folder] / path
        if file is None:
            raise AssertionError(f"`::{name}` without a file named before it")
        tests.append((file, name))
    return tests


def test_the_table_lists_the_level_2_chapters():
    chapters = {chapter for _id, chapter, _status, _text in rows()}
    assert chapters == set(range(1, 15))
    ids = [row_id for row_id, *_ in rows()]
    assert len(ids) == len(set(ids)), "a requirement listed twice"


@pytest.mark.parametrize("row", rows(), ids=lambda row: row[0])
def test_every_row_is_met_with_its_evidence_or_says_why_it_does_not_apply(row):
    row_id, chapter, status, text = row
    assert status in {"met", "n/a"}, f"{row_id} is {status!r}"
    if status == "n/a":
        assert len(text) > 10, f"{row_id}: say why it does not apply"
        return
    tests = named_tests(text)
    documents = DOCUMENT.findall(text)
    # Architecture and design (V1) may be met by a document; everything else by a test.
    assert tests or (chapter == 1 and documents), f"{row_id} names no test"
    for file, name in tests:
        assert file.is_file(), f"{row_id}: {file.relative_to(ROOT)} does not exist"
        source = file.read_text(encoding="utf-8")
        assert re.search(rf"^\s*(async )?def {name}\(", source, re.M), (
            f"{row_id}: no {name} in {file.relative_to(ROOT)}"
        )
    for document in documents:
        path = document.split("#")[0].rstrip(".")
        assert (ROOT / path).exists(), f"{row_id}: {document} does not exist"


def test_a_row_naming_a_test_that_does_not_exist_is_caught():
    [(file, name)] = named_tests("shown by `S/test_keys.py::test_that_was_renamed`")
    assert file.is_file()
    assert f"def {name}(" not in file.read_text(encoding="utf-8")
    assert named_tests("`T/portal/test_access.py::test_a`, `::test_b`") == [
        (ROOT / "tests" / "portal" / "test_access.py", "test_a"),
        (ROOT / "tests" / "portal" / "test_access.py", "test_b"),
    ]
