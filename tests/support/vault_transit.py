"""A local server of HashiCorp Vault's Transit HTTP API, for tests (no ``vault`` binary
is packaged for this platform's registries).

It speaks the part of the API the platform uses, as Vault does: ``POST
/v1/<mount>/encrypt|decrypt|rewrap/<key>`` with ``plaintext``/``ciphertext`` or
``batch_input`` (a batch with failed items answers 400 and marks them in
``data.batch_results``), ``POST /v1/<mount>/keys/<key>/rotate``, key versions in
``vault:vN:`` ciphertexts (AES-256-GCM, the nonce first, as Vault's aes256-gcm96),
``min_decryption_version``, keys created on first encryption, and the
``X-Vault-Token`` header: any other token gets 403 ``permission denied``.
Optionally over TLS with a certificate of the tests' CA.
"""

import base64
import binascii
import contextlib
import json
import os
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.support.tls import Authority

CIPHERTEXT = re.compile(r"^vault:v(\d+):(.+)$")


class TransitEngine:
    """The keys and the cryptography, apart from HTTP."""

    def __init__(self):
        self.versions: dict[str, list[bytes]] = {}
        self.min_decryption_version: dict[str, int] = {}
        self.lock = threading.Lock()

    def rotate(self, name: str) -> int:
        with self.lock:
            self.versions.setdefault(name, []).append(AESGCM.generate_key(bit_length=256))
            return len(self.versions[name])

    def encrypt(self, name: str, item: dict) -> dict:
        try:
            plaintext = base64.b64decode(item.get("plaintext") or "", validate=True)
        except binascii.Error:
            return {"error": "failed to base64-decode plaintext"}
        if name not in self.versions:
            self.rotate(name)  # Vault's upsert: the first encryption creates the key
        version = len(self.versions[name])
        nonce = os.urandom(12)
        sealed = AESGCM(self.versions[name][version - 1]).encrypt(nonce, plaintext, None)
        encoded = base64.b64encode(nonce + sealed).decode()
        return {"ciphertext": f"vault:v{version}:{encoded}", "key_version": version}

    def decrypt(self, name: str, item: dict) -> dict:
        match = CIPHERTEXT.match(item.get("ciphertext") or "")
        if not match:
            return {"error": "invalid ciphertext: no prefix"}
        version = int(match.group(1))
        if version < self.min_decryption_version.get(name, 1):
            return {"error": "cannot decrypt ciphertext, key version is too old"}
        if version > len(self.versions[name]):
            return {"error": "invalid key version"}
        try:
            raw = base64.b64decode(match.group(2), validate=True)
            plaintext = AESGCM(self.versions[name][version - 1]).decrypt(raw[:12], raw[12:], None)
        except (binascii.Error, InvalidTag):
            return {"error": "cipher: message authentication failed"}
        return {"plaintext": base64.b64encode(plaintext).decode()}

    def rewrap(self, name: str, item: dict) -> dict:
        opened = self.decrypt(name, item)
        if "error" in opened:
            return opened
        return self.encrypt(name, {"plaintext": opened["plaintext"]})


class VaultTransitServer:
    """``with VaultTransitServer(token=…) as vault:`` serves on ``vault.url``."""

    def __init__(self, *, token: str, mount: str = "transit", tls: tuple[Path, Path] | None = None):
        self.token = token
        self.mount = mount
        self.tls = tls
        self.engine = TransitEngine()
        # (operation, key, number of items) of every request, to see batching.
        self.calls: list[tuple[str, str, int]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server.server_port}"

    def rotate(self, name: str) -> int:
        return self.engine.rotate(name)

    def _handler(self):
        server = self
        operations = {
            "encrypt": server.engine.encrypt,
            "decrypt": server.engine.decrypt,
            "rewrap": server.engine.rewrap,
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if self.headers.get("X-Vault-Token") != server.token:
                    return self._send(403, {"errors": ["permission denied"]})
                parts = self.path.strip("/").split("/")
                if parts[:2] != ["v1", server.mount] or len(parts) not in (4, 5):
                    return self._send(404, {"errors": [f"no handler for route {self.path!r}"]})
                if len(parts) == 5 and parts[2] == "keys" and parts[4] == "rotate":
                    server.rotate(parts[3])
                    return self._send(204, None)
                operation, name = parts[2], parts[3]
                if operation not in operations:
                    return self._send(404, {"errors": [f"no handler for route {self.path!r}"]})
                if operation != "encrypt" and name not in server.engine.versions:
                    return self._send(400, {"errors": ["encryption key not found"]})
                batch = body.get("batch_input")
                items = batch if batch is not None else [body]
                server.calls.append((operation, name, len(items)))
                results = [operations[operation](name, item) for item in items]
                failed = any("error" in result for result in results)
                if batch is None:
                    if failed:
                        return self._send(400, {"errors": [results[0]["error"]]})
                    return self._send(200, {"data": results[0]})
                return self._send(400 if failed else 200, {"data": {"batch_results": results}})

            def _send(self, status: int, payload):
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> "VaultTransitServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


TOKEN = "hvs.transit-test-token"  # noqa: S105 - the local server's own token


@contextlib.contextmanager
def transit_backend(settings, folder: Path):
    """A local Transit server over TLS (a CA made in ``folder``) configured as the
    platform's ``SECRETS_BACKEND``; yields the server."""
    authority = Authority.create(folder / "vault-ca")
    with VaultTransitServer(token=TOKEN, tls=authority.issue("vault", ["127.0.0.1"])) as server:
        settings.SECRETS_BACKEND = "vault-transit"
        settings.VAULT_ADDR = server.url
        settings.VAULT_TOKEN = TOKEN
        settings.VAULT_TOKEN_FILE = ""
        settings.VAULT_CACERT = str(authority.ca_file)
        yield server
