"""A local server speaking clamd's protocol over TCP, for the antivirus tests.

Debian's clamav-daemon needs signatures that only freshclam downloads, so the
tests talk to this stand-in instead: it answers PING, VERSION and INSTREAM the
way clamd does (``z``- or ``n``-prefixed commands, length-prefixed chunks, a
zero-length end) and reports the EICAR test string, wherever it appears in the
stream, as ``Eicar-Test-Signature FOUND``.
"""

import socketserver
import struct
import threading

# The industry's standard test string (eicar.org), not a virus.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        prefix = self.rfile.read(1)
        end = b"\0" if prefix == b"z" else b"\n"
        command = self._until(end)
        if command == b"PING":
            self.wfile.write(b"PONG" + end)
        elif command == b"VERSION":
            self.wfile.write(b"ClamAV 1.0.0/test-double" + end)
        elif command == b"INSTREAM":
            data = self._stream()
            self.server.scanned.append(data)
            verdict = b"Eicar-Test-Signature FOUND" if EICAR in data else b"OK"
            self.wfile.write(b"stream: " + verdict + end)
        else:
            self.wfile.write(b"UNKNOWN COMMAND" + end)

    def _until(self, end: bytes) -> bytes:
        data = b""
        while (byte := self.rfile.read(1)) not in (end, b""):
            data += byte
        return data

    def _stream(self) -> bytes:
        chunks = []
        while True:
            (size,) = struct.unpack("!L", self.rfile.read(4))
            if size == 0:
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))


class ClamdServer(socketserver.ThreadingTCPServer):
    """``with ClamdServer() as clamd: settings.ANTIVIRUS_URL = clamd.url``;
    ``clamd.scanned`` holds every stream it was sent."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Session)
        self.scanned: list[bytes] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"tcp://{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
