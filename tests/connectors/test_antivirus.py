"""Every PDF of a package is scanned by clamd before the package can apply (ASVS 12.4.2),
against a local server speaking clamd's protocol (tests/support/clamd.py)."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from connectors.services import apply_package
from connectors.zsi.generator import generate_full
from tests.support.clamd import EICAR, ClamdServer
from tests.support.processes import free_port
from tests.support.zsi import edit_cell


@pytest.fixture
def clamd(settings):
    with ClamdServer() as server:
        settings.ANTIVIRUS_URL = server.url
        yield server


@pytest.fixture
def applied(coop, tmp_path, fingerprint):
    """Package 1 applied (no scanner yet); returns package 2 and the state to keep."""
    first = generate_full(tmp_path / "p1", premises=3, years=1, seed=5, code=coop.code)
    assert apply_package(coop, first).outcome == "applied"
    second = generate_full(tmp_path / "p2", premises=3, years=1, seed=5, code=coop.code, number=2)
    return second, fingerprint()


def _pdfs(package: Path) -> list[Path]:
    return sorted((package / "DOKUMENTY").glob("*.pdf"))


def test_a_clean_package_is_scanned_pdf_by_pdf_and_applies(applied, clamd, coop):
    package, _state = applied
    assert apply_package(coop, package).outcome == "applied"
    assert sorted(clamd.scanned) == sorted(p.read_bytes() for p in _pdfs(package))


def test_a_pdf_with_a_virus_rejects_the_package_naming_the_file(applied, clamd, coop, fingerprint):
    package, state = applied
    infected = _pdfs(package)[0]
    data = b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n"
    infected.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    edit_cell(package, "DOKUMENTY.CSV", _line_of(package, infected.name), "SHA256", sha)

    result = apply_package(coop, package)
    messages = [str(p) for p in result.problems]
    assert result.outcome == "rejected", messages
    assert any(
        f"DOKUMENTY/{infected.name}" in m and "Eicar-Test-Signature" in m for m in messages
    ), messages
    assert fingerprint() == state
    stored = Path(django_settings.PRIVATE_STORAGE_ROOT) / coop.schema_name
    assert not list(stored.rglob(f"{sha}*")), "the infected file was kept"


def test_an_unreachable_scanner_keeps_the_package_out(settings, applied, coop, fingerprint):
    package, state = applied
    settings.ANTIVIRUS_URL = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    result = apply_package(coop, package)
    messages = [str(p) for p in result.problems]
    assert result.outcome == "failed", messages
    assert any("antivirus scanner" in m and "unreachable" in m for m in messages), messages
    assert fingerprint() == state


def _line_of(package: Path, name: str) -> int:
    lines = (package / "DOKUMENTY.CSV").read_bytes().split(b"\r\n")
    return next(n for n, line in enumerate(lines, start=1) if name.encode() in line)
