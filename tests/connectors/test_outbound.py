"""The ZSI-REST connector connects only where the allow list says (ASVS 5.2.6, 12.6.1):
checked when the connector is configured, before every request and again when the
connection opens; refused hosts get a clear error and receive no request."""

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.outbound import DestinationRefused, check_url
from connectors.services import ConfigurationError, configure_connector, run_sync
from tenants.models import ConnectorSettings
from tests.connectors.test_connectors import ZsiRestServer, rest_config
from tests.support.processes import ROOT, process_env
from tests.support.zsi import full_package


class Redirector:
    """Answers every request with a 302 to ``target`` + the same path."""

    def __init__(self, target: str):
        self.requests: list[str] = []
        redirector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                redirector.requests.append(self.path)
                self.send_response(302)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/zsi"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def no_workdirs(coop) -> bool:
    from connectors.zsi_rest import rest_folder

    return not list(rest_folder(coop.code).glob("package-*"))


def test_a_host_outside_the_allow_list_is_refused_when_configured(coop, tmp_path, settings):
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    settings.ZSI_REST_ALLOWED_HOSTS = ["zsi.odra.example"]
    refused = pytest.raises(ConfigurationError, match=r"127.0.0.1 .port \d+. is not an allowed")
    with ZsiRestServer(package) as server, refused:
        configure_connector(coop, connector="zsi-rest", config=rest_config(server))
    assert server.requests == []
    assert not ConnectorSettings.objects.filter(cooperative=coop).exists()


def test_a_host_removed_from_the_allow_list_is_not_asked_at_the_next_sync(
    coop, tmp_path, settings, fingerprint
):
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    with ZsiRestServer(package) as server:
        configure_connector(coop, connector="zsi-rest", config=rest_config(server))
        server.requests.clear()
        state = fingerprint()
        settings.ZSI_REST_ALLOWED_HOSTS = ["zsi.odra.example"]
        summary = run_sync(coop, trigger="manual", wait=True)
    assert summary.outcome == "failed" and "is not an allowed ZSI host" in summary.message
    assert server.requests == [] and fingerprint() == state and no_workdirs(coop)


def test_an_address_that_turned_private_is_refused_when_connecting(
    coop, tmp_path, settings, fingerprint
):
    """A name that passed at configuration and resolves to a loopback address when the
    sync connects (as after DNS rebinding) is refused without a request."""
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    with ZsiRestServer(package) as server:
        config = {**rest_config(server), "url": server.url.replace("127.0.0.1", "localhost")}
        _row, check = configure_connector(coop, connector="zsi-rest", config=config)
        assert check.ok, check.message  # loopback allowed: the name reached the server
        server.requests.clear()
        state = fingerprint()
        settings.ZSI_REST_ALLOWED_NETWORKS = []
        summary = run_sync(coop, trigger="manual", wait=True)
    assert summary.outcome == "failed"
    assert "localhost resolves to" in summary.message and "loopback" in summary.message
    assert server.requests == [] and fingerprint() == state and no_workdirs(coop)
    row = ConnectorSettings.objects.get(cooperative=coop)
    assert "localhost resolves to" in row.last_error


def test_loopback_private_link_local_and_metadata_addresses_are_refused(settings):
    settings.ZSI_REST_ALLOWED_HOSTS = ["localhost:*", "*.example", "169.254.169.254", "10.1.2.3"]
    settings.ZSI_REST_ALLOWED_NETWORKS = []
    refused = {
        "http://localhost:8080/zsi": "localhost resolves to",
        "http://169.254.169.254/latest/meta-data": "only inside ZSI_REST_ALLOWED_NETWORKS",
        "http://10.1.2.3/zsi": "only inside ZSI_REST_ALLOWED_NETWORKS",
        "https://zsi.odra.example:8443/zsi": "port 8443",
        "https://zsi.odra.example.evil.pl/zsi": "is not an allowed ZSI host",
        "https://ala:kot@zsi.odra.example/zsi": "user name or password",
        "file:///etc/passwd": "is not a valid address",
        "ftp://zsi.odra.example/zsi": "only https://, http://",
    }
    for url, message in refused.items():
        with pytest.raises(DestinationRefused, match=message):
            check_url(url)
    check_url("https://zsi.odra.example/zsi")  # a public name under an allowed pattern

    settings.ZSI_REST_ALLOWED_NETWORKS = ["10.1.2.0/24"]  # a ZSI server behind a VPN
    check_url("http://10.1.2.3/zsi")
    settings.ZSI_REST_SCHEMES = ("https",)  # as in production
    with pytest.raises(DestinationRefused, match="only https:// addresses are allowed"):
        check_url("http://10.1.2.3/zsi")


def test_production_connects_over_https_only():
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY="x7#Lq9!vR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sY" * 2,
        ZSI_REST_ALLOWED_HOSTS="zsi.odra.example",
    )
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.ZSI_REST_SCHEMES, s.ZSI_REST_ALLOWED_HOSTS)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('https',) ['zsi.odra.example']"


def test_a_redirect_to_another_host_is_not_followed_and_the_token_stays(coop, tmp_path):
    package = full_package(tmp_path / "p1", premises=2, code=coop.code)
    with ZsiRestServer(package) as target:
        elsewhere = target.url.replace("127.0.0.1", "localhost").removesuffix("/zsi")
        with Redirector(elsewhere) as redirector:
            config = {**rest_config(target), "url": redirector.url}
            _row, check = configure_connector(coop, connector="zsi-rest", config=config)
            summary = run_sync(coop, trigger="manual", wait=True)
    assert not check.ok and "follows no redirect to another host" in check.message
    assert summary.outcome == "failed" and "redirect" in summary.message
    assert redirector.requests and target.requests == []
    assert no_workdirs(coop)
