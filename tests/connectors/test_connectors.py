"""The connector registry, zsi-file (inbox/archive/quarantine), zsi-rest against a
real HTTP server on 127.0.0.1, secrets at rest, dispatching due syncs."""

import csv
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors import registry
from connectors.registry import CheckResult, Connector, available_connectors, get_connector
from connectors.services import configure_connector, connector_config, dispatch_due_syncs, run_sync
from connectors.zsi.spec import REST_NAMES
from ebok.models import Balance, DataFreshness, Document
from tenants.models import ConnectorSettings
from tests.support.zsi import delta_package, edit_cell, full_package, zip_folder

# --- registry ---------------------------------------------------------------------------


class EchoConnector(Connector):
    name = "echo-test"
    config_schema = {"type": "object", "properties": {"x": {"type": "string"}}}

    def check(self, config):
        return CheckResult(True, "echo")

    def read(self, config, state):
        return None


def test_registry_finds_builtins_and_entry_point_plugins():
    found = available_connectors()
    assert {"zsi-file", "zsi-rest"} <= set(found)
    ep = EntryPoint(
        name="echo-test",
        value="tests.connectors.test_connectors:EchoConnector",
        group=registry.ENTRY_POINT_GROUP,
    )
    broken = EntryPoint(name="broken", value="no.such.module:X", group=registry.ENTRY_POINT_GROUP)
    try:
        found = available_connectors(eps=[ep, broken])
        assert found["echo-test"] is EchoConnector
        assert "broken" not in found
        assert get_connector("echo-test").check({}).ok
    finally:
        registry._registry.pop("echo-test", None)
    with pytest.raises(registry.ConnectorError):
        get_connector("no-such-connector")


# --- zsi-file ---------------------------------------------------------------------------


def test_file_connector_applies_oldest_first_and_quarantines_with_a_report(coop, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = full_package(inbox / "ODRA_1.zip", premises=4, code=coop.code)
    second = delta_package(first, inbox / "ODRA_2")
    third = full_package(
        tmp_path / "p3", premises=4, code=coop.code, number=3, as_of=dt.date(2026, 12, 31)
    )
    edit_cell(third, "LOKALE.CSV", 2, "RODZAJ", "Q")
    zip_folder(third, inbox / "ODRA_3.zip")
    import os
    import time

    for age, path in ((300, inbox / "ODRA_1.zip"), (200, second), (100, inbox / "ODRA_3.zip")):
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
    (inbox / ".ODRA_4.zip.part").write_bytes(b"partial upload")

    _row, check = configure_connector(coop, connector="zsi-file", config={"inbox": str(inbox)})
    assert check.ok and "3 package(s) waiting" in check.message

    with pytest.raises(SystemExit) as exit_info:
        call_command("sync_now", "--cooperative", coop.code)
    assert exit_info.value.code == 1  # the third is rejected
    archive, quarantine = tmp_path / "archive", tmp_path / "quarantine"
    assert sorted(p.name for p in archive.iterdir()) == ["ODRA_1.zip", "ODRA_2"]
    assert sorted(p.name for p in quarantine.iterdir()) == ["ODRA_3.zip", "ODRA_3.zip.errors.txt"]
    report = (quarantine / "ODRA_3.zip.errors.txt").read_text()
    assert "LOKALE.CSV, line 2, column RODZAJ, value 'Q'" in report
    assert [p.name for p in inbox.iterdir()] == [".ODRA_4.zip.part"]
    with schema_context(coop.schema_name):
        assert DataFreshness.objects.get().package_number == 2

    # Nothing waiting: a "nothing" run, exit 0.
    call_command("sync_now", "--cooperative", coop.code)
    assert ConnectorSettings.objects.get(cooperative=coop).last_outcome == "nothing"


def test_configure_connector_command_says_whether_the_source_answered(coop, tmp_path, capsys):
    inbox = tmp_path / "in"
    call_command(
        "configure_connector",
        "--cooperative",
        coop.code,
        "--connector",
        "zsi-file",
        "--inbox",
        str(inbox),
        "--schedule",
        "daily 02:30",
    )
    out = capsys.readouterr().out
    assert "source answered" in out and "daily 02:30" in out
    row = ConnectorSettings.objects.get(cooperative=coop)
    assert row.next_run_at > timezone.now() and row.config == {"inbox": str(inbox)}

    with pytest.raises(SystemExit):
        call_command(
            "configure_connector",
            "--cooperative",
            coop.code,
            "--connector",
            "zsi-rest",
            "--url",
            "http://127.0.0.1:9/zsi",
            "--token",
            "sekret-123",
            "--schedule",
            "every 15m",
        )
    assert "source did not answer" in capsys.readouterr().out
    row.refresh_from_db()
    assert row.schedule == "every 15m" and row.connector == "zsi-rest"
    # The token is stored encrypted, never in the plain config.
    assert "sekret-123" not in json.dumps(row.config) and "sekret-123" not in row.encrypted_secrets
    assert connector_config(row)["token"] == "sekret-123"


# --- zsi-rest ---------------------------------------------------------------------------


class ZsiRestServer:
    """Serves a package folder as ZSI-REST v1 (pages of ``page_size`` rows)."""

    def __init__(self, folder: Path, token="dobry-token", page_size=7):  # noqa: S107
        self.folder = folder
        self.token = token
        self.page_size = page_size
        self.failures_left = 0  # answer 503 to this many requests first
        self.requests: list[str] = []
        self.lie_about_pages = False
        header = {}
        for line in (folder / "NAGLOWEK.TXT").read_text().splitlines():
            key, value = line.split("=", 1)
            if key not in ("PLIK", "KODOWANIE"):
                header[key.lower()] = value
        self.header = header
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, {"error": "unauthorized"})
                if server.failures_left > 0:
                    server.failures_left -= 1
                    return self._send(503, {"error": "busy"})
                path, _, query = self.path.partition("?")
                parts = path.strip("/").split("/")
                if parts == ["zsi", "v1", "naglowek"]:
                    return self._send(200, server.header)
                if len(parts) == 5 and parts[2] == "dokumenty" and parts[4] == "plik":
                    return self._pdf(parts[3])
                if len(parts) == 3 and parts[2] in REST_NAMES:
                    page = int(query.split("=")[1])
                    return self._page(REST_NAMES[parts[2]], page)
                return self._send(404, {"error": "not found"})

            def _page(self, spec, page):
                path = server.folder / spec.name
                if not path.exists():
                    return self._send(404, {})
                with open(path, encoding="cp1250", newline="") as stream:
                    rows = [
                        {k.lower(): v for k, v in row.items()}
                        for row in csv.DictReader(stream, delimiter=";")
                    ]
                pages = max(1, -(-len(rows) // server.page_size))
                chunk = rows[(page - 1) * server.page_size : page * server.page_size]
                stron = pages + (1 if server.lie_about_pages and page > 1 else 0)
                return self._send(200, {"strona": page, "stron": stron, "wiersze": chunk})

            def _pdf(self, doc_id):
                with open(server.folder / "DOKUMENTY.CSV", encoding="cp1250") as stream:
                    for row in csv.DictReader(stream, delimiter=";"):
                        if row["ID_DOKUMENTU"] == doc_id:
                            data = (server.folder / "DOKUMENTY" / row["PLIK"]).read_bytes()
                            self.send_response(200)
                            self.send_header("Content-Type", "application/pdf")
                            self.send_header("Content-Length", str(len(data)))
                            self.end_headers()
                            self.wfile.write(data)
                            return None
                return self._send(404, {})

            def _send(self, status, body):
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/zsi"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def rest_config(server, **extra):
    return {"url": server.url, "token": server.token, "backoff": 0.05, "retries": 3, **extra}


def test_rest_connector_applies_the_package_it_serves(coop, tmp_path):
    package = full_package(tmp_path / "p1", premises=5, code=coop.code)
    with ZsiRestServer(package) as server:
        server.failures_left = 2  # 5xx are retried with backoff
        _row, check = configure_connector(coop, connector="zsi-rest", config=rest_config(server))
        assert not check.ok or "answers" in check.message
        summary = run_sync(coop, trigger="manual", wait=True)
        assert summary.outcome == "applied", summary.message
        # The same package again: nothing new (its number was applied).
        assert run_sync(coop, trigger="manual", wait=True).outcome == "nothing"
    with schema_context(coop.schema_name):
        assert Balance.objects.count() == 5
        assert Document.objects.count() == 7
        assert DataFreshness.objects.get().package_number == 1
    assert any(r.endswith("/plik") for r in server.requests)
    assert any("strona=2" in r for r in server.requests)


def test_rest_connector_credentials_rejected(coop, tmp_path):
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    with ZsiRestServer(package) as server:
        config = {**rest_config(server), "token": "wrong"}
        _row, check = configure_connector(coop, connector="zsi-rest", config=config)
        assert not check.ok and "credentials rejected" in check.message
        summary = run_sync(coop, trigger="manual", wait=True)
    assert summary.outcome == "failed" and "credentials rejected" in summary.message
    row = ConnectorSettings.objects.get(cooperative=coop)
    assert row.last_outcome == "failed" and "credentials rejected" in row.last_error


def test_rest_connector_gives_up_after_retries_and_applies_nothing(coop, tmp_path, fingerprint):
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    with ZsiRestServer(package) as server:
        configure_connector(coop, connector="zsi-rest", config=rest_config(server, retries=2))
        state = fingerprint()
        server.failures_left = 100
        summary = run_sync(coop, trigger="manual", wait=True)
    assert summary.outcome == "failed" and "did not answer after 3 attempts" in summary.message
    assert fingerprint() == state


def test_rest_page_count_mismatch_is_an_error(coop, tmp_path, fingerprint):
    package = full_package(tmp_path / "p1", premises=4, years=1, code=coop.code)
    with ZsiRestServer(package, page_size=50) as server:
        configure_connector(coop, connector="zsi-rest", config=rest_config(server))
        state = fingerprint()
        server.lie_about_pages = True
        summary = run_sync(coop, trigger="manual", wait=True)
    assert summary.outcome == "rejected" and "page count" in summary.message
    assert fingerprint() == state


# --- dispatching -------------------------------------------------------------------------


def test_dispatch_enqueues_due_cooperatives_and_advances_their_next_run(coop, tmp_path, settings):
    import redis

    settings.SYNC_DISPATCH_JITTER_SECONDS = 0
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.CELERY_SYNC_QUEUE)
    row, _ = configure_connector(coop, connector="zsi-file", config={"inbox": str(tmp_path)})
    assert dispatch_due_syncs() == []  # not due yet
    now = timezone.now()
    ConnectorSettings.objects.filter(pk=row.pk).update(next_run_at=now)
    assert dispatch_due_syncs(now) == [coop.code]
    row.refresh_from_db()
    assert row.next_run_at > now and row.last_dispatched_at == now
    assert dispatch_due_syncs(now) == []  # advanced: not twice
    message = json.loads(client.lpop(settings.CELERY_SYNC_QUEUE))
    assert message["headers"]["task"] == "connectors.sync_cooperative"
    assert message["headers"]["_schema_name"] == coop.schema_name
