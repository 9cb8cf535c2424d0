"""Scanning files with ClamAV's daemon, clamd, over TCP (ASVS 12.4.2).

``ANTIVIRUS_URL=tcp://host:3310`` names the daemon; empty or ``off`` scans
nothing (production must say ``off`` explicitly, see ebok/keys/checks.py). The
protocol is clamd's INSTREAM: ``zINSTREAM\\0``, then chunks each prefixed with
its length as a 4-byte big-endian number, a zero length to end, and one reply
ending in NUL: ``stream: OK`` or ``stream: <signature> FOUND``. Anything else,
or no answer, is an error: a file is never taken as clean unscanned (fail closed).
"""

import socket
import struct
from typing import BinaryIO
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

CHUNK = 64 * 1024
MAX_REPLY = 4096


class ScannerUnavailable(RuntimeError):
    """The scanner could not give a verdict (unreachable, timed out, answered an error)."""


def configured() -> bool:
    return settings.ANTIVIRUS_URL not in ("", "off")


def address() -> tuple[str, int]:
    url = urlsplit(settings.ANTIVIRUS_URL)
    if url.scheme != "tcp" or not url.hostname or not url.port:
        raise ValueError(
            "ANTIVIRUS_URL must look like tcp://host:3310 or be off, "
            f"not {settings.ANTIVIRUS_URL!r}."
        )
    return url.hostname, url.port


def scan(stream: BinaryIO) -> str | None:
    """The signature clamd finds in ``stream`` (read to its end), or ``None`` if clean."""
    try:
        with socket.create_connection(
            address(), timeout=settings.ANTIVIRUS_TIMEOUT_SECONDS
        ) as sock:
            sock.sendall(b"zINSTREAM\0")
            while chunk := stream.read(CHUNK):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = _reply(sock)
    except OSError as exc:
        raise ScannerUnavailable(
            _("the antivirus scanner at %(url)s is unreachable: %(error)s")
            % {"url": settings.ANTIVIRUS_URL, "error": exc}
        ) from exc
    verdict = reply.removeprefix("stream: ")
    if verdict == "OK":
        return None
    if verdict.endswith(" FOUND"):
        return verdict.removesuffix(" FOUND")
    raise ScannerUnavailable(
        _("the antivirus scanner at %(url)s gave no verdict: %(reply)s")
        % {"url": settings.ANTIVIRUS_URL, "reply": reply[:200]}
    )


def _reply(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\0") and len(data) < MAX_REPLY:
        part = sock.recv(MAX_REPLY)
        if not part:
            break
        data += part
    return data.rstrip(b"\0").decode("utf-8", "replace").strip()
