"""Opening a package (ZIP file or folder) safely, and reading its header.

Nothing here loads a data file into memory: members are handed out as
streams that count their bytes against the configured limits while they are
read, on top of the check of the sizes declared in the ZIP's central directory.
"""

import datetime as dt
import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from connectors.zsi.errors import PackageProblem, PackageRejected
from connectors.zsi.spec import DOCUMENTS_DIR, ENCODINGS, FILES_BY_NAME, HEADER_FILE, MODES

CHUNK = 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
HEADER_KEYS = (
    "FORMAT",
    "WERSJA",
    "KOD_SPOLDZIELNI",
    "NUMER_PACZKI",
    "TRYB",
    "STAN_NA",
    "WYGENEROWANO",
    "KODOWANIE",
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DOCUMENT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def reject(message, **where):
    raise PackageRejected([PackageProblem(message, **where)])


@dataclass
class Limits:
    max_bytes: int
    max_files: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(settings.ZSI_MAX_UNCOMPRESSED_BYTES, settings.ZSI_MAX_FILES)


@dataclass
class ListedFile:
    name: str
    rows: int
    sha256: str
    line: int


@dataclass
class Header:
    raw: bytes
    values: dict
    files: dict[str, ListedFile] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        # The header lists every file's SHA-256, and DOKUMENTY.CSV every PDF's,
        # so hashing the header identifies the whole content.
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def number(self) -> int:
        return int(self.values["NUMER_PACZKI"])

    @property
    def mode(self) -> str:
        return self.values["TRYB"]

    @property
    def as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.values["STAN_NA"])

    @property
    def encoding(self) -> str:
        return self.values["KODOWANIE"]

    @property
    def pg_encoding(self) -> str:
        return ENCODINGS[self.encoding]

    @property
    def cooperative_code(self) -> str:
        return self.values["KOD_SPOLDZIELNI"]


class _CountingStream(io.RawIOBase):
    """Counts what a member really yields: a ZIP may lie about sizes."""

    def __init__(self, raw, name: str, declared: int, budget: "_Budget"):
        self._raw = raw
        self._name = name
        self._declared = declared
        self._budget = budget
        self._read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._raw.read(len(buffer))
        n = len(data)
        self._read += n
        if self._read > self._declared:
            reject(
                _("the file is larger than its size in the ZIP directory (a ZIP bomb?)"),
                file=self._name,
            )
        self._budget.spend(n, self._name)
        buffer[:n] = data
        return n

    def close(self):
        self._raw.close()
        super().close()


class _Budget:
    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def spend(self, n: int, name: str) -> None:
        self.used += n
        if self.used > self.limit:
            reject(
                _("the package unpacks to more than the limit of %(limit)s bytes")
                % {"limit": self.limit},
                file=name,
            )


class Package:
    """A package's members: top-level files and the PDFs under DOKUMENTY/."""

    def __init__(self, path: Path, limits: Limits | None = None):
        self.path = Path(path)
        self.limits = limits or Limits.from_settings()
        self.files: dict[str, int] = {}  # top-level name -> size
        self.documents: dict[str, int] = {}  # name under DOKUMENTY/ -> size
        self.extra: list[str] = []  # anything else: folders, nested files
        self._zip: zipfile.ZipFile | None = None
        self._budget = _Budget(self.limits.max_bytes)
        if self.path.is_dir():
            self._scan_folder()
        elif self.path.is_file():
            self._scan_zip()
        else:
            reject(_("the package does not exist"), file=str(self.path))

    # -- listing -------------------------------------------------------------

    def _add(self, parts: tuple[str, ...], size: int, shown: str) -> None:
        if len(parts) == 1:
            self.files[parts[0]] = size
        elif len(parts) == 2 and parts[0] == DOCUMENTS_DIR:
            self.documents[parts[1]] = size
        else:
            self.extra.append(shown)

    def _check_totals(self, count: int, total: int) -> None:
        if count > self.limits.max_files:
            reject(
                _("the package holds %(count)s files, more than the limit of %(limit)s")
                % {"count": count, "limit": self.limits.max_files},
                file=self.path.name,
            )
        if total > self.limits.max_bytes:
            reject(
                _("the package unpacks to %(total)s bytes, more than the limit of %(limit)s")
                % {"total": total, "limit": self.limits.max_bytes},
                file=self.path.name,
            )

    def _scan_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            reject(_("not a readable ZIP file (%(error)s)") % {"error": exc}, file=self.path.name)
        infos = self._zip.infolist()
        total = 0
        count = 0
        for info in infos:
            name = info.filename
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
                reject(_("absolute or foreign path in the ZIP"), file=name, value=name)
            parts = PurePosixPath(name).parts
            if any(p in ("..", ".") for p in parts):
                reject(_("path climbs out of the package"), file=name, value=name)
            if stat.S_ISLNK(info.external_attr >> 16):
                reject(_("symbolic link in the ZIP"), file=name, value=name)
            if info.is_dir():
                if parts != (DOCUMENTS_DIR,):
                    self.extra.append(name)
                continue
            if info.flag_bits & 0x1:
                reject(_("encrypted ZIP entry"), file=name)
            count += 1
            total += info.file_size
            self._add(parts, info.file_size, name)
        self._check_totals(count, total)
        self._infos = {i.filename: i for i in infos}

    def _scan_folder(self) -> None:
        total = 0
        count = 0
        root = self.path
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            rel_dir = Path(dirpath).relative_to(root)
            for d in list(dirnames):
                full = Path(dirpath) / d
                rel = rel_dir / d
                if full.is_symlink():
                    reject(_("symbolic link in the package"), file=str(rel), value=str(rel))
                if rel.parts != (DOCUMENTS_DIR,):
                    self.extra.append(str(rel) + "/")
                    dirnames.remove(d)
            for f in filenames:
                full = Path(dirpath) / f
                rel = rel_dir / f
                if full.is_symlink():
                    reject(_("symbolic link in the package"), file=str(rel), value=str(rel))
                size = full.stat().st_size
                count += 1
                total += size
                self._add(rel.parts, size, str(rel))
            if count > self.limits.max_files:
                break
        self._check_totals(count, total)

    # -- reading -------------------------------------------------------------

    def _member_path(self, name: str, document: bool) -> str:
        return f"{DOCUMENTS_DIR}/{name}" if document else name

    def open(self, name: str, *, document: bool = False) -> io.BufferedReader:
        member = self._member_path(name, document)
        declared = (self.documents if document else self.files)[name]
        if self._zip is not None:
            raw = self._zip.open(self._infos[member])
        else:
            raw = open(self.path / member, "rb")  # noqa: SIM115 - closed by the caller
        return io.BufferedReader(_CountingStream(raw, member, declared, self._budget), CHUNK)

    def size(self, name: str) -> int:
        return self.files[name]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_header(package: Package) -> Header:
    """Parse NAGLOWEK.TXT; every problem rejects the package."""
    if HEADER_FILE not in package.files:
        reject(_("the header file is missing"), file=HEADER_FILE)
    if package.files[HEADER_FILE] > MAX_HEADER_BYTES:
        reject(_("the header file is too large"), file=HEADER_FILE)
    with package.open(HEADER_FILE) as stream:
        raw = stream.read()
    if not raw:
        reject(_("the file is empty"), file=HEADER_FILE)
    problems: list[PackageProblem] = []

    def problem(message, **where):
        problems.append(PackageProblem(message, file=HEADER_FILE, **where))

    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        reject(
            _("the header must be ASCII"),
            file=HEADER_FILE,
            line=line,
            value=f"0x{raw[exc.start]:02x}",
        )
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    values: dict[str, str] = {}
    files: dict[str, ListedFile] = {}
    for number, line in enumerate(lines, start=1):
        line = line[:-1] if line.endswith("\r") else line
        if "=" not in line:
            problem(_("expected KEY=VALUE"), line=number, value=line)
            continue
        key, value = line.split("=", 1)
        if key == "PLIK":
            parts = value.split(";")
            if len(parts) != 3:
                problem(_("expected PLIK=NAME;ROWS;SHA256"), line=number, column=key, value=value)
                continue
            name, rows, sha = parts
            if not re.fullmatch(r"0|[1-9][0-9]{0,11}", rows):
                problem(_("malformed row count"), line=number, column="PLIK", value=rows)
                continue
            if not SHA256_RE.match(sha):
                problem(
                    _("malformed SHA-256 (64 lowercase hex digits)"),
                    line=number,
                    column="PLIK",
                    value=sha,
                )
                continue
            if name in files:
                problem(_("file listed twice"), line=number, column="PLIK", value=name)
                continue
            if name not in FILES_BY_NAME:
                problem(_("unknown file"), line=number, column="PLIK", value=name)
                continue
            files[name] = ListedFile(name, int(rows), sha, number)
        elif key in HEADER_KEYS:
            if key in values:
                problem(_("key given twice"), line=number, column=key, value=value)
            values[key] = value
        else:
            problem(_("unknown key"), line=number, column=key, value=value)
    for key in HEADER_KEYS:
        if key not in values:
            problem(_("required key missing"), column=key)
    problems.extend(check_header_values(values, HEADER_FILE))
    if problems:
        raise PackageRejected(problems)
    return Header(raw=raw, values=values, files=files)


def check_header_values(values: dict, source: str) -> list[PackageProblem]:
    problems = []

    def problem(message, key):
        problems.append(PackageProblem(message, file=source, column=key, value=values.get(key)))

    if "FORMAT" in values and values["FORMAT"] != "ZSI-EBOK":
        problem(_("unknown format (expected ZSI-EBOK)"), "FORMAT")
    if "WERSJA" in values and values["WERSJA"] != "1":
        problem(_("unknown version (expected 1)"), "WERSJA")
    if "NUMER_PACZKI" in values and not re.fullmatch(r"[1-9][0-9]{0,17}", values["NUMER_PACZKI"]):
        problem(_("the package number must be a positive integer"), "NUMER_PACZKI")
    if "TRYB" in values and values["TRYB"] not in MODES:
        problem(_("unknown mode (expected PELNY or PRZYROSTOWY)"), "TRYB")
    if "STAN_NA" in values:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["STAN_NA"]):
                raise ValueError
            dt.date.fromisoformat(values["STAN_NA"])
        except ValueError:
            problem(_("malformed date (expected YYYY-MM-DD)"), "STAN_NA")
    if "WYGENEROWANO" in values:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", values["WYGENEROWANO"]):
                raise ValueError
            dt.datetime.fromisoformat(values["WYGENEROWANO"])
        except ValueError:
            problem(_("malformed timestamp (expected YYYY-MM-DDTHH:MM:SS)"), "WYGENEROWANO")
    if "KODOWANIE" in values and values["KODOWANIE"] not in ENCODINGS:
        problem(_("unknown encoding (expected CP1250 or UTF-8)"), "KODOWANIE")
    return problems


def check_members(package: Package, header: Header) -> list[PackageProblem]:
    """Listed files against present files; required files; document names."""
    problems = []
    for name, listed in header.files.items():
        if name not in package.files:
            problems.append(
                PackageProblem(
                    _("a listed file is missing from the package"),
                    file=HEADER_FILE,
                    line=listed.line,
                    column="PLIK",
                    value=name,
                )
            )
    for name in sorted(package.files):
        if name != HEADER_FILE and name not in header.files:
            problems.append(PackageProblem(_("a file not listed in the header"), file=name))
    for spec in FILES_BY_NAME.values():
        if spec.required and spec.name not in header.files:
            problems.append(
                PackageProblem(
                    _("a required file is not listed"), file=HEADER_FILE, value=spec.name
                )
            )
    for name in package.extra:
        problems.append(PackageProblem(_("unexpected folder or nested file"), file=name))
    if package.documents and "DOKUMENTY.CSV" not in header.files:
        problems.append(
            PackageProblem(_("PDF documents without DOKUMENTY.CSV"), file=DOCUMENTS_DIR + "/")
        )
    for name in sorted(package.documents):
        if not DOCUMENT_NAME_RE.match(name) or ".." in name:
            problems.append(
                PackageProblem(
                    _("unacceptable document file name"), file=f"{DOCUMENTS_DIR}/{name}", value=name
                )
            )
    return problems
