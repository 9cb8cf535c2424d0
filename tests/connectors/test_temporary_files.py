"""Temporary copies of package data on the server (ASVS 8.1.2): REST downloads and PDFs
being stored are private to the platform's user while they exist, and none outlives an
import, whether it was applied, rejected or killed (the next sync removes leftovers)."""

import os
import stat
from pathlib import Path

from django.conf import settings

from connectors.registry import get_connector
from connectors.services import apply_package, configure_connector, run_sync, source_state
from connectors.zsi_rest import rest_folder
from ebok.keys import documents as stored_documents
from tests.connectors.test_connectors import ZsiRestServer, rest_config
from tests.support.zsi import full_package


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(coop) -> list[Path]:
    documents = Path(settings.PRIVATE_STORAGE_ROOT) / coop.schema_name / "documents"
    return [*rest_folder(coop.code).glob("package-*"), *documents.glob("*/.incoming-*")]


def test_a_rest_download_is_private_and_removed_when_applied_or_rejected(coop, tmp_path):
    package = full_package(tmp_path / "p1", premises=3, code=coop.code)
    with ZsiRestServer(package) as server:
        config = rest_config(server)
        configure_connector(coop, connector="zsi-rest", config=config)
        incoming = get_connector("zsi-rest").read(config, source_state(coop))
        assert mode(rest_folder(coop.code)) == 0o700 and mode(incoming.path) == 0o700
        written = list(incoming.path.rglob("*"))
        assert {p.name for p in written} >= {"NAGLOWEK.TXT", "DOKUMENTY.CSV", "D000001.pdf"}
        assert {mode(p) for p in written if p.is_file()} == {0o600}
        assert {mode(p) for p in written if p.is_dir()} == {0o700}
        incoming.finish("applied", "")
        assert not incoming.path.exists()

        assert run_sync(coop, trigger="manual", wait=True).outcome == "applied"
        assert leftovers(coop) == []
        server.header["numer_paczki"] = "2"
        server.lie_about_pages = True
        assert run_sync(coop, trigger="manual", wait=True).outcome == "rejected"
        assert leftovers(coop) == []


def test_pdfs_are_written_privately_and_published_to_the_group_only(coop, tmp_path, monkeypatch):
    seen = []
    publish = os.chmod

    def record(path, new_mode):
        seen.append((os.path.basename(path), mode(Path(path)), Path(path).read_bytes()[:5]))
        publish(path, new_mode)

    monkeypatch.setattr(stored_documents.os, "chmod", record)
    folder = full_package(tmp_path / "p1", premises=3, code=coop.code)
    assert apply_package(coop, folder).outcome == "applied"
    # Only the encrypted PDF is ever written: no plaintext temporary file.
    assert seen and all(
        name.startswith(".incoming-") and m == 0o600 and head != b"%PDF-" for name, m, head in seen
    )
    stored = list((Path(settings.PRIVATE_STORAGE_ROOT) / coop.schema_name).rglob("*.pdf"))
    assert len(stored) == len(seen) and {mode(p) for p in stored} == {0o640}
    assert leftovers(coop) == []

    wrong = full_package(tmp_path / "p2", premises=3, code=coop.code, number=2)
    (wrong / "DOKUMENTY" / "D000001.pdf").write_bytes(b"%PDF-1.4 other bytes")
    assert apply_package(coop, wrong).outcome == "rejected"
    assert leftovers(coop) == []


def test_leftovers_of_a_killed_import_are_removed_at_the_next_sync(coop, tmp_path):
    workdir = rest_folder(coop.code) / "package-k1ll3d"
    (workdir / "DOKUMENTY").mkdir(parents=True)
    (workdir / "DOKUMENTY" / "D1.pdf").write_bytes(b"%PDF-1.4 half")
    partial = Path(settings.PRIVATE_STORAGE_ROOT) / coop.schema_name / "documents/ab/.incoming-x"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"%PDF-1.4 half")
    kept = partial.parent / ("ab" + "0" * 62 + ".pdf")
    kept.write_bytes(stored_documents.seal(b"%PDF-1.4 stored"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    configure_connector(coop, connector="zsi-file", config={"inbox": str(inbox)})

    assert run_sync(coop, trigger="manual", wait=True).outcome == "nothing"
    assert leftovers(coop) == [] and not workdir.exists()
    assert kept.exists()  # a stored PDF is no leftover
