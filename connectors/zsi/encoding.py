"""Streaming checks that a CSV's bytes are valid in the declared encoding.

Both directions matter: CP1250 bytes declared as UTF-8 fail the UTF-8
decoder; UTF-8 text declared as CP1250 decodes "fine" as CP1250 (to mojibake),
so we notice when a file that claims CP1250 is entirely valid UTF-8 with
multi-byte sequences, which real Polish CP1250 text practically never is.
"""

import codecs
import csv
import re

from django.utils.translation import gettext_lazy as _

from connectors.zsi.errors import PackageProblem

# Bytes CP1250 leaves undefined.
CP1250_UNDEFINED = re.compile(rb"[\x81\x83\x88\x90\x98]")
UNDEFINED_BYTES = b"\x81\x83\x88\x90\x98"


class EncodingChecker:
    def __init__(self, encoding: str, file: str, header: list[str]):
        self.declared_utf8 = encoding == "UTF-8"
        self.file = file
        self.header = header
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._lines_before = 0
        self._still_utf8 = True
        self._first_multibyte: tuple[int, str, str] | None = None

    def _locate(self, chunk: bytes, pos: int) -> tuple[int, str, bytes]:
        """Line number, column name and the field's bytes at ``pos`` of ``chunk``."""
        pos = max(0, min(pos, len(chunk) - 1)) if chunk else 0
        line = self._lines_before + chunk[:pos].count(b"\n") + 1
        start = chunk.rfind(b"\n", 0, pos) + 1
        end = chunk.find(b"\n", pos)
        end = len(chunk) if end < 0 else end
        text = chunk[start:end].rstrip(b"\r").decode("cp1250", errors="replace")
        prefix = chunk[start:pos].decode("cp1250", errors="replace")
        index = len(next(csv.reader([prefix], delimiter=";"), [""])) - 1 if prefix else 0
        fields = next(csv.reader([text], delimiter=";"), [""])
        column = self.header[index] if 0 <= index < len(self.header) else ""
        value = fields[index] if 0 <= index < len(fields) else text
        return line, column, value

    def feed(self, chunk: bytes, final: bool = False) -> PackageProblem | None:
        try:
            return self._feed(chunk, final)
        finally:
            self._lines_before += chunk.count(b"\n")

    def _feed(self, chunk: bytes, final: bool) -> PackageProblem | None:
        pending = len(self._decoder.getstate()[0])
        if self.declared_utf8:
            if chunk.isascii() and not pending and not final:
                return None
            try:
                self._decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                pos = max(exc.start - pending, 0)
                line, column, value = self._locate(chunk, pos)
                bad = chunk[pos : pos + 1]
                return PackageProblem(
                    _(
                        "byte 0x%(byte)s is not valid UTF-8, the declared encoding "
                        "(the file looks like CP1250: %(guess)r)"
                    )
                    % {"byte": bad.hex(), "guess": value},
                    file=self.file,
                    line=line,
                    column=column,
                    value=value,
                )
            return None
        # translate() scans at memory speed; the regex only locates a byte once found.
        match = None
        if len(chunk.translate(None, UNDEFINED_BYTES)) != len(chunk):
            match = CP1250_UNDEFINED.search(chunk)
        if match:
            line, column, value = self._locate(chunk, match.start())
            return PackageProblem(
                _("byte 0x%(byte)s is not a character in CP1250, the declared encoding")
                % {"byte": match.group().hex()},
                file=self.file,
                line=line,
                column=column,
                value=value,
            )
        if self._still_utf8 and (pending or not chunk.isascii() or final):
            try:
                text = self._decoder.decode(chunk, final)
            except UnicodeDecodeError:
                self._still_utf8 = False
            else:
                if self._first_multibyte is None:
                    found = re.search(r"[^\x00-\x7f]", text)
                    if found:
                        pos = len(text[: found.start()].encode("utf-8")) - pending
                        line, column, _value = self._locate(chunk, max(pos, 0))
                        start = chunk.rfind(b"\n", 0, max(pos, 0)) + 1
                        end = chunk.find(b"\n", max(pos, 0))
                        raw_line = chunk[start : end if end >= 0 else len(chunk)]
                        shown = raw_line.decode("utf-8", errors="replace").rstrip("\r")
                        fields = next(csv.reader([shown], delimiter=";"), [shown])
                        idx = self.header.index(column) if column in self.header else -1
                        value = fields[idx] if 0 <= idx < len(fields) else shown
                        self._first_multibyte = (line, column, value)
        if final and self._still_utf8 and self._first_multibyte:
            line, column, value = self._first_multibyte
            return PackageProblem(
                _("the file is UTF-8 but the header declares CP1250"),
                file=self.file,
                line=line,
                column=column,
                value=value,
            )
        return None
