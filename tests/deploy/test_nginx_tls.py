"""The project's nginx configuration, run for real: protocols, ciphers, OCSP stapling, HSTS.

nginx starts with deploy/nginx.conf and deploy/nginx-tls.conf as they are, with only
the machine-specific parts replaced (domain, ports, certificate paths, upstream):
tests/support/nginx.py.
"""

import socket
import ssl
import subprocess
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.nginx import nginx_proxy

HOST = "odra.ebok.test"


class Upstream(BaseHTTPRequestHandler):
    """Stands in for gunicorn; sends its own HSTS header, which nginx must replace."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"upstream ok"
        self.send_response(200)
        self.send_header("Strict-Transport-Security", "max-age=1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("nginx")
    with nginx_proxy(folder, upstream.server_address[1]) as running_proxy:
        yield running_proxy
    upstream.shutdown()
    upstream.server_close()


def client(version: ssl.TLSVersion, ciphers: str | None = None, cafile=None) -> ssl.SSLContext:
    """A client that offers exactly one protocol version (and, for TLS 1.2, these ciphers)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the old versions, on purpose
        ctx.minimum_version = ctx.maximum_version = version
    # Security level 0 so that the client itself is able to offer old protocols and
    # ciphers: any refusal then comes from the server.
    ctx.set_ciphers((ciphers or "ALL") + ":@SECLEVEL=0")
    return ctx


def handshake(port: int, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=HOST)


def test_nginx_accepts_the_configuration_with_ocsp_stapling(proxy):
    result = subprocess.run([*proxy["command"], "-t"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # A certificate without a responder address would make nginx skip stapling with a warning.
    assert "ssl_stapling" not in result.stderr


@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["TLSv1.0", "TLSv1.1"]
)
def test_tls_1_0_and_1_1_are_refused_by_the_server(proxy, version):
    with pytest.raises(ssl.SSLError) as refused:
        handshake(proxy["port"], client(version))
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


@pytest.mark.parametrize(
    "cipher",
    ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA"],
)
def test_tls_1_2_with_a_cbc_cipher_is_refused_by_the_server(proxy, cipher):
    with pytest.raises(ssl.SSLError) as refused:
        handshake(proxy["port"], client(ssl.TLSVersion.TLSv1_2, cipher))
    assert refused.value.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", refused.value


def test_tls_1_2_takes_the_servers_strongest_aead_cipher(proxy):
    # The client prefers AES-128; the server's order puts AES-256 first and wins.
    ctx = client(
        ssl.TLSVersion.TLSv1_2,
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
        cafile=proxy["authority"].ca_file,
    )
    with handshake(proxy["port"], ctx) as conn:
        assert conn.version() == "TLSv1.2"
        assert conn.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"


def test_tls_1_3_is_accepted_with_an_aead_suite(proxy):
    ctx = client(ssl.TLSVersion.TLSv1_3, cafile=proxy["authority"].ca_file)
    with handshake(proxy["port"], ctx) as conn:
        assert conn.version() == "TLSv1.3"
        assert conn.cipher()[0] == "TLS_AES_256_GCM_SHA384"


def test_the_proxy_answers_over_tls_with_one_hsts_header(proxy):
    ctx = client(ssl.TLSVersion.TLSv1_3, cafile=proxy["authority"].ca_file)
    with handshake(proxy["port"], ctx) as conn:
        conn.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200")
    assert body == "upstream ok"
    hsts = [line for line in head.split("\r\n") if line.lower().startswith("strict-transport")]
    assert hsts == ["Strict-Transport-Security: max-age=31536000; includeSubDomains; preload"]


def test_the_certificate_status_is_stapled_to_the_handshake(proxy):
    # nginx asks the CA's responder on the first handshake and staples from then on.
    command = [
        "openssl", "s_client", "-connect", f"127.0.0.1:{proxy['port']}",
        "-servername", HOST, "-status", "-CAfile", str(proxy["authority"].ca_file),
    ]  # fmt: skip
    deadline, output = time.monotonic() + 15, ""
    while time.monotonic() < deadline:
        output = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10
        ).stdout
        if "OCSP Response Status: successful" in output:
            break
        time.sleep(0.5)
    assert "OCSP Response Status: successful" in output, output
    assert "Cert Status: good" in output
    assert "Verify return code: 0 (ok)" in output
    assert proxy["responder"].requests >= 1
