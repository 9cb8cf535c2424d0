"""Stage, validate and apply a package: COPY into temporary tables, then SQL.

Everything runs on one psycopg connection inside ONE transaction:

1. each CSV is streamed (hashed, counted, encoding-checked) straight into
   ``COPY ... FROM STDIN`` of a temporary all-text staging table;
2. every value rule, duplicate, reference and order rule is checked with
   set-based queries over the staging tables;
3. only then the target tables are changed with set-based deletes and
   upserts, the balance rule is checked on the ledger as it now stands, and
   the transaction commits. Any problem raises ``PackageRejected`` and the
   transaction rolls back: readers see the old state or the new one.
"""

import contextlib
import hashlib
import io
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from psycopg.copy import LibpqWriter

from connectors.zsi import spec as S
from connectors.zsi.encoding import EncodingChecker
from connectors.zsi.errors import PackageProblem, PackageRejected, ProblemList
from connectors.zsi.fast_ledger import PremisesSums, check, convert
from connectors.zsi.package import CHUNK, Header, Package, check_members
from ebok.keys import documents as stored_documents
from ebok_platform import antivirus

ROW_PROBLEMS_PER_FILE = 50
Progress = Callable[..., None]

DATE_RE = r"^[1-9]\d\d\d-[01]\d-[0-3]\d$"
# A PELNY ledger is built beside the live one and swapped in at commit.
NEW_LEDGER = "zsi_ledger_new"
LEDGER_TABLE = S.LEDGER.table


class _Declined(Exception):
    """The fast ledger path met something only the exact path can judge."""


class _Rows:
    """What goes to COPY: the file's bytes, or (``fast``) typed rows of whole lines.
    With ``checked`` the bytes go unchanged, and ``plain`` says whether every row
    passed ``fast_ledger.check`` (then the SQL value rules need not run)."""

    def __init__(self, fast: bool, checked: bool = False, sums: PremisesSums | None = None):
        self.fast = fast
        self.sums = sums
        self.checked = checked
        self.plain = checked
        self.carry = b""
        self.crlf: bool | None = None  # the line end of the first rows; all must match

    def feed(self, chunk: bytes, final: bool = False) -> bytes:
        if not (self.fast or self.plain):
            return chunk
        data = self._lines(chunk, final)
        if self.fast:
            rows = convert(data, self.sums) if data and data.endswith(self._end) else None
            if data and rows is None:
                raise _Declined
            return rows or b""
        if data and not (data.endswith(self._end) and check(data)):
            self.plain = False
        return chunk

    @property
    def _end(self) -> bytes:
        return b"\r\n" if self.crlf else b"\n"

    def _lines(self, chunk: bytes, final: bool) -> bytes:
        data = self.carry + chunk
        if final:
            self.carry = b""
            if data and not data.endswith(b"\n"):
                data += self._end  # the final line end is optional
        else:
            cut = data.rfind(b"\n") + 1
            data, self.carry = data[:cut], data[cut:]
        if data and self.crlf is None:
            self.crlf = data.endswith(b"\r\n")
        return data


class _SendingWriter(LibpqWriter):
    """Sends COPY data from a worker thread: checking the next chunk in Python
    overlaps the server's work on the previous one. A short queue keeps memory flat."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def _send(self) -> None:
        try:
            while (data := self._queue.get()) is not None:
                super().write(data)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc
            while self._queue.get() is not None:
                pass

    def write(self, data) -> None:
        if self._error is not None:
            raise self._error
        if data:
            self._queue.put(data)

    def finish(self, exc: BaseException | None = None) -> None:
        self._queue.put(None)
        self._thread.join()
        super().finish(exc or self._error)
        if self._error is not None:
            raise self._error


class _Background(threading.Thread):
    """Runs ``target(*args)`` beside the caller; ``join`` re-raises what it raised
    (unless the caller is already raising)."""

    def __init__(self, target, *args):
        super().__init__(daemon=True)
        self._call = (target, args)
        self._error: BaseException | None = None
        self._language = translation.get_language()  # messages in the caller's language
        self.start()

    def run(self) -> None:
        target, args = self._call
        try:
            with translation.override(self._language):
                target(*args)
        except BaseException as exc:
            self._error = exc

    def join(self, timeout=None, reraise: bool = True) -> None:
        super().join(timeout)
        if reraise and self._error is not None:
            raise self._error


class _Discard:
    def write(self, data) -> None:
        pass


def _analyze_staging(file: S.FileSpec) -> str:
    # Statistics only where a plan can use them: the identifiers joins and groupings
    # match on, and the operation of a delta's row. The value rules read every row
    # whatever the statistics say. A quarter of the time of a whole-table ANALYZE.
    columns = [c.ident for c in file.columns if c.name.startswith("ID_") or c.name in file.key]
    columns += [c.ident for c in file.columns if c.name == "OPERACJA"]
    return f"ANALYZE {file.staging} ({', '.join(dict.fromkeys(columns))})"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _col(column: S.Column, alias: str = "r") -> str:
    return f"{alias}.{column.ident}"


# --- value rules as SQL -------------------------------------------------------------


def _decimal_re(column: S.Column) -> str:
    # Unbounded \d+ with a separate length check: PostgreSQL's regex engine is
    # several times slower with bounded repetitions such as {1,12}.
    sign = "-?" if column.signed else ""
    fraction = "\\d" + "\\d?" * (column.scale - 1)
    return "^" + sign + "\\d+(," + fraction + ")?$"


def _valid_decimal(column: S.Column, expr: str) -> str:
    longest = column.digits + column.scale + 2
    return (
        f"({expr} ~ {_lit(_decimal_re(column))} AND length({expr}) <= {longest} AND "
        f"length(split_part({expr}, ',', 1)) <= {column.digits + 1})"
    )


def _valid_date(expr: str) -> str:
    # The cheap regex first: the cast only ever sees a well-formed date of day 29-31.
    return (
        f"(CASE WHEN NOT {expr} ~ {_lit(DATE_RE)} THEN false "
        f"WHEN substr({expr}, 6, 2) NOT BETWEEN '01' AND '12' "
        f"OR substr({expr}, 9, 2) NOT BETWEEN '01' AND '31' THEN false "
        f"WHEN substr({expr}, 9, 2) <= '28' THEN true "
        f"ELSE substr({expr}, 9, 2)::int <= extract(day from "
        f"(substr({expr}, 1, 8) || '01')::date + interval '1 month - 1 day') END)"
    )


def _column_checks(column: S.Column) -> list[tuple[str, str]]:
    """(predicate that holds for a valid value, message) for one column."""
    c = _col(column)
    checks = []
    if column.required:
        checks.append((f"{c} <> ''", _("a value is required")))
    present = f"{c} = '' OR "
    if column.kind == "text" and column.max_length:
        checks.append((f"length({c}) <= {column.max_length}", _("the value is too long")))
    elif column.kind == "code":
        allowed = ", ".join(_lit(v) for v in column.choices)
        checks.append(
            (
                f"{present}{c} IN ({allowed})",
                _("unknown code (allowed: %(codes)s)") % {"codes": ", ".join(column.choices)},
            )
        )
    elif column.kind == "date":
        checks.append((f"{present}{_valid_date(c)}", _("malformed date (expected YYYY-MM-DD)")))
    elif column.kind == "decimal":
        message = (
            _("malformed number (decimal comma, at most %(scale)s decimals)")
            if column.signed
            else _("malformed number (decimal comma, at most %(scale)s decimals, not negative)")
        )
        checks.append((f"{present}{_valid_decimal(column, c)}", message % {"scale": column.scale}))
    elif column.kind == "nrb":
        checks.append(
            (
                f"{present}(CASE WHEN {c} ~ '^[0-9]{{26}}$' THEN "
                f"(substr({c}, 3) || '2521' || substr({c}, 1, 2))::numeric % 97 = 1 "
                "ELSE false END)",
                _("not a valid 26-digit NRB account number (check digits)"),
            )
        )
    return checks


def _date_of(expr: str) -> str:
    return f"NULLIF({expr}, '')::date"


def _num(expr: str) -> str:
    return f"replace(NULLIF({expr}, ''), ',', '.')::numeric"


def _row_checks(file: S.FileSpec, header: Header) -> list[tuple[str, str, str]]:
    """(column, predicate, message) for every rule of the file."""
    checks = []
    for column in file.columns:
        for predicate, message in _column_checks(column):
            checks.append((column.name, predicate, message))
    if file is S.LEDGER:
        op = 'r."OPERACJA"'
        # Only ID_ZAPISU and ID_LOKALU matter in a removal row.
        checks = [
            (name, p if name in ("ID_ZAPISU", "ID_LOKALU", "OPERACJA") else f"{op} = 'U' OR {p}", m)
            for name, p, m in checks
        ]
        if header.mode == "PELNY":
            checks.append(("OPERACJA", f"{op} = 'Z'", _("every row of a PELNY package is Z")))
        w, ma, kind = 'r."WINIEN"', 'r."MA"', 'r."RODZAJ"'
        checks += [
            (
                "WINIEN",
                f"{op} = 'U' OR {kind} = 'KOR' OR {w} NOT LIKE '-%'",
                _("only a correction (KOR) may be negative"),
            ),
            (
                "MA",
                f"{op} = 'U' OR {kind} = 'KOR' OR {ma} NOT LIKE '-%'",
                _("only a correction (KOR) may be negative"),
            ),
            (
                "WINIEN",
                f"{op} = 'U' OR ({w} ~ '[1-9]') <> ({ma} ~ '[1-9]')",
                _("exactly one of WINIEN and MA must be non-zero"),
            ),
            (
                "SKLADNIK",
                f"{op} = 'U' OR CASE WHEN {kind} IN ('NAL', 'ROZ', 'KOR') "
                f"THEN r.\"SKLADNIK\" <> '' ELSE r.\"SKLADNIK\" = '' END",
                _("a component is required for NAL, ROZ and KOR and must be empty otherwise"),
            ),
        ]
    elif file is S.CHARGES:
        base, rate, amount = (
            S.CHARGES.column("PODSTAWA"),
            S.CHARGES.column("STAWKA"),
            S.CHARGES.column("KWOTA"),
        )
        well_formed = " AND ".join(_valid_decimal(c, _col(c)) for c in (base, rate, amount))
        checks.append(
            (
                "KWOTA",
                f"CASE WHEN {well_formed} THEN round({_num(_col(base))} * {_num(_col(rate))}, 2)"
                f" = {_num(_col(amount))} ELSE true END",
                _("KWOTA is not PODSTAWA × STAWKA rounded half-up to 2 places"),
            )
        )
    elif file is S.BALANCES:
        checks.append(
            (
                "STAN_NA",
                f'r."STAN_NA" = {_lit(header.values["STAN_NA"])}',
                _("differs from STAN_NA of the header"),
            )
        )
    elif file is S.DOCUMENTS:
        checks += [
            ("SHA256", "r.\"SHA256\" ~ '^[0-9a-f]{64}$'", _("malformed SHA-256")),
            (
                "PLIK",
                "r.\"PLIK\" ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' AND r.\"PLIK\" NOT LIKE '%..%'",
                _("a plain file name under DOKUMENTY/ is expected"),
            ),
        ]
    return checks


# --- the importer -------------------------------------------------------------------


class Importer:
    """One package into one cooperative's schema, on ``conn`` (psycopg, autocommit)."""

    def __init__(
        self,
        conn: psycopg.Connection,
        package: Package,
        header: Header,
        *,
        schema: str,
        progress: Progress | None = None,
        previous_files: dict[str, str] | None = None,
    ):
        self.conn = conn
        self.package = package
        self.header = header
        self.schema = schema
        self.progress = progress or (lambda **kw: None)
        self.problems = ProblemList()
        self.counts: dict[str, int] = {}
        self.staged: set[str] = set()  # file names read (and loaded, if needed) without a problem
        self.timings: dict[str, float] = {}
        self.fast_ledger = False  # the PELNY ledger went straight into NEW_LEDGER
        self.plain_ledger = False  # every ledger row passed fast_ledger's checks
        self.distrust = False  # the server refused rows fast_ledger passed
        self.delta_sums: str | None = None  # see _delta_balance_base
        self.ledger_sums: PremisesSums | None = None  # a PELNY ledger's, while it streams
        self.previous_files = previous_files or {}

    # -- helpers --

    def _exec(self, query, params=None):
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.rowcount

    def _rows(self, query, params=None):
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 3)

    def files(self) -> list[S.FileSpec]:
        return [f for f in S.FILES if f.name in self.header.files]

    # -- the whole run, inside the caller's transaction --

    def run(self) -> dict:
        self.problems.extend(check_members(self.package, self.header))
        self.problems.raise_if_any()
        for file in self.files():
            self._create_staging(file)
        total_bytes = sum(self.package.size(f.name) for f in self.files())
        done_bytes = 0
        for file in self.files():
            started = time.monotonic()
            self.progress(phase="reading", file=file.name, bytes_done=done_bytes, bytes=total_bytes)
            if file is S.LEDGER and self.header.mode == "PELNY":
                self.fast_ledger = self._stage(file, fast=True)
            if not self.fast_ledger or file is not S.LEDGER:
                self._stage(file, load=not self._idle(file))
            done_bytes += self.package.size(file.name)
            self._timed(f"stage {file.name}", started)
        self.problems.raise_if_any()
        self.progress(phase="validating", bytes_done=total_bytes, bytes=total_bytes)
        # PDFs are files, not rows: stored while the server validates and applies (a
        # problem with them still rejects the package, before commit).
        documents = _Background(self._store_documents, self._expected_documents())
        try:
            self._validate()
            self.progress(phase="applying", rows=sum(self.counts.values()))
            started = time.monotonic()
            changes = self._apply()
        except PackageRejected:
            documents.join(reraise=False)
            raise PackageRejected(list(self.problems)) from None  # with the PDFs' problems
        except BaseException:
            documents.join(reraise=False)
            raise
        documents.join()
        self._timed("apply", started)
        self.problems.raise_if_any()
        if not self.fast_ledger:
            started = time.monotonic()
            self.progress(phase="checking balances")
            self._check_balances(self.delta_sums)
            self.problems.raise_if_any()
            self._timed("balances", started)
        self._write_freshness()
        if self.fast_ledger:
            started = time.monotonic()
            self._swap_ledger()
            self._timed("swap", started)
        return {"rows": self.counts, "changes": changes, "timings": self.timings}

    def _validate(self) -> None:
        started = time.monotonic()
        for file in self.files():
            step = time.monotonic()
            self._validate_values(file)
            self._timed(f"values {file.name}", step)
        self.problems.raise_if_any()
        step = time.monotonic()
        self._validate_relations()
        self._timed("relations", step)
        self.problems.raise_if_any()
        if self.fast_ledger:
            step = time.monotonic()
            self._check_new_ledger()
            self.problems.raise_if_any()
            self._timed("balances", step)
        self._timed("validate", started)

    # -- staging --

    def _create_staging(self, file: S.FileSpec) -> None:
        # Identifiers are compared with the target tables' byte-wise ("C") columns.
        cols = ", ".join(
            f"{c.ident} text" + (' COLLATE "C"' if c.name.startswith("ID_") else "")
            for c in file.columns
        )
        self._exec(
            f"CREATE TEMP TABLE {file.staging} "
            f"(line bigint GENERATED BY DEFAULT AS IDENTITY (START 2), {cols}) ON COMMIT DROP"
        )

    def _idle(self, file: S.FileSpec) -> bool:
        """An unchanged file no check needs to read: its own rules held when it was
        applied, and so do its references while the files it refers to are unchanged
        too (and no changed file refers to it). It is hashed and counted, not loaded."""
        if file is S.TITLES or file is S.PERSONS:
            related = (S.TITLES, S.PERSONS, S.PREMISES)
        elif file in (S.CHARGES, S.PARAMETERS, S.READINGS):
            related = (file, S.PREMISES)
        else:
            return False
        keys = self.file_keys()
        return all(
            f.name in keys and self.previous_files.get(f.name) == keys[f.name] for f in related
        )

    def _stage(self, file: S.FileSpec, fast: bool = False, load: bool = True) -> bool:
        """Stream ``file`` into its staging table (or, ``fast``, a PELNY ledger
        straight into the new ledger table; or, not ``load``, only verify its bytes).
        False: the fast path declined."""
        listed = self.header.files[file.name]
        digest = hashlib.sha256()
        newlines = 0
        last = b""
        checker = EncodingChecker(self.header.encoding, file.name, file.header)
        if fast:
            copy_sql = (
                f"COPY {NEW_LEDGER} ({', '.join(c.target for c in file.columns if c.target)}) "
                f"FROM STDIN (FORMAT csv, DELIMITER ';', ENCODING '{self.header.pg_encoding}', "
                "FORCE_NOT_NULL (component, description), FREEZE)"
            )
        else:
            copy_sql = (
                f"COPY {file.staging} ({', '.join(c.ident for c in file.columns)}) FROM STDIN "
                f"(FORMAT csv, DELIMITER ';', QUOTE '\"', ENCODING '{self.header.pg_encoding}', "
                f"FORCE_NOT_NULL ({', '.join(c.ident for c in file.columns)}))"
            )
        staged_rows = None
        with self.package.open(file.name) as stream:
            first = stream.readline(64 * 1024)
            if not first:
                self.problems.add(_("the file is empty (not even a header line)"), file=file.name)
                return True
            digest.update(first)
            newlines += first.count(b"\n")
            last = first[-1:]
            problem = checker.feed(first)
            if problem is None:
                problem = self._check_header_line(file, first)
            if problem is not None:
                self.problems.append(problem)
                return True
            try:
                with self.conn.transaction(), self.conn.cursor() as cur:
                    if fast:
                        # Created in this subtransaction, so COPY may FREEZE its rows.
                        self._create_new_ledger()
                        self._exec("SET LOCAL maintenance_work_mem TO '1GB'")
                    # A delta's ledger is only checked here (its rows may be removals);
                    # a PELNY one the fast path declined goes through every SQL rule.
                    checked = file is S.LEDGER and not fast and self.header.mode != "PELNY"
                    sums = PremisesSums(self.header.as_of) if fast else None
                    outgoing = _Rows(fast, checked=checked and not self.distrust, sums=sums)
                    sending = (
                        cur.copy(copy_sql, writer=_SendingWriter(cur))
                        if load
                        else contextlib.nullcontext(_Discard())
                    )
                    with sending as copy:
                        while chunk := stream.read(CHUNK):
                            digest.update(chunk)
                            newlines += chunk.count(b"\n")
                            last = chunk[-1:]
                            problem = checker.feed(chunk)
                            if problem is not None:
                                raise PackageRejected([problem])
                            copy.write(outgoing.feed(chunk))
                        copy.write(outgoing.feed(b"", final=True))
                    staged_rows = cur.rowcount if load else None
                    if fast:
                        self._identity_after_load(staged_rows)
                        self.ledger_sums = sums
                    problem = checker.feed(b"", final=True)
                    if problem is not None:
                        raise PackageRejected([problem])
            except PackageRejected as exc:
                self.problems.extend(exc.problems)
                return True
            except _Declined:
                return False
            except psycopg.Error as exc:
                if fast:
                    self.distrust = True  # let the exact path's SQL rules judge every row
                    return False
                self.problems.append(self._copy_problem(file, exc))
                return True
        # A final line end is optional; the header line is not a row.
        rows = newlines - 1 if last == b"\n" else newlines
        self.counts[file.name] = rows
        if rows != listed.rows:
            self.problems.add(
                _("the header lists %(listed)s rows, the file has %(rows)s")
                % {"listed": listed.rows, "rows": rows},
                file=file.name,
            )
        if digest.hexdigest() != listed.sha256:
            self.problems.add(
                _("SHA-256 differs from the header (%(listed)s)") % {"listed": listed.sha256},
                file=file.name,
                value=digest.hexdigest(),
            )
        if staged_rows is not None and staged_rows != rows:
            if fast:
                return False
            self.problems.add(
                _("a quoted field spans several lines (%(lines)s lines, %(rows)s records)")
                % {"lines": rows, "rows": staged_rows},
                file=file.name,
            )
        self.plain_ledger = self.plain_ledger or (file is S.LEDGER and (fast or outgoing.plain))
        if not any(p.file == file.name for p in self.problems):
            self.staged.add(file.name)
            if load:
                self._exec(f"ANALYZE {NEW_LEDGER}" if fast else _analyze_staging(file))
        return True

    def _check_header_line(self, file: S.FileSpec, first: bytes) -> PackageProblem | None:
        codec = "cp1250" if self.header.encoding == "CP1250" else "utf-8"
        text = first.decode(codec, errors="replace").rstrip("\n").rstrip("\r")
        names = [n[1:-1] if n.startswith('"') and n.endswith('"') else n for n in text.split(";")]
        if names != file.header:
            return PackageProblem(
                _("the first line must name the columns: %(expected)s")
                % {"expected": ";".join(file.header)},
                file=file.name,
                line=1,
                value=text,
            )
        return None

    def _copy_problem(self, file: S.FileSpec, exc: psycopg.Error) -> PackageProblem:
        diag = exc.diag
        context = diag.context or ""
        line = column = value = None
        found = re.search(r"line (\d+)", context)
        if found:
            line = int(found.group(1)) + 1  # the header line was not sent to COPY
        found = re.search(r'column "?([A-Z_]+)"?(?:: "(.*)")?', context)
        if found:
            column, value = found.group(1), found.group(2)
        message = diag.message_primary or str(exc)
        if "extra data" in message or "missing data" in message:
            message = _("wrong number of fields (%(detail)s)") % {"detail": message}
        elif "carriage return" in message or "newline" in message:
            message = _("mixed or stray line ends (%(detail)s)") % {"detail": message}
        return PackageProblem(message, file=file.name, line=line, column=column or "", value=value)

    # -- validation --

    def _validate_values(self, file: S.FileSpec) -> None:
        if file is S.LEDGER and self.plain_ledger:
            return  # checked chunk by chunk while streaming (fast_ledger)
        if self._unchanged(file) and file is not S.BALANCES:
            return  # the same bytes passed these rules in the last applied package
        checks = _row_checks(file, self.header)
        verdicts = ", ".join(f"COALESCE(({p}), false)" for _n, p, _m in checks)
        all_ok = " AND ".join(f"COALESCE(({p}), false)" for _n, p, _m in checks)
        values = ", ".join(_col(c) for c in file.columns)
        rows = self._rows(
            f"SELECT r.line, ARRAY[{verdicts}], {values} FROM {file.staging} r "
            f"WHERE NOT ({all_ok}) ORDER BY r.line LIMIT {ROW_PROBLEMS_PER_FILE}"
        )
        for line, verdict, *vals in rows:
            by_name = dict(zip(file.header, vals, strict=True))
            for (name, _p, message), ok in zip(checks, verdict, strict=True):
                if not ok:
                    self.problems.add(
                        message, file=file.name, line=line, column=name, value=by_name[name]
                    )

    def _report_duplicates(self, file: S.FileSpec) -> None:
        keys = ", ".join(f"r.{_q(k)}" for k in file.key)
        shown = " || ';' || ".join(f"r.{_q(k)}" for k in file.key)
        rows = self._rows(
            f"SELECT (array_agg(r.line ORDER BY r.line))[2], min({shown}) "
            f"FROM {file.staging} r GROUP BY {keys} HAVING count(*) > 1 "
            f"ORDER BY 1 LIMIT {ROW_PROBLEMS_PER_FILE}"
        )
        self._report(rows, _("duplicate id"), file.name, file.key[-1])

    def _report(self, rows, message, file: str, column: str) -> None:
        for line, value in rows:
            self.problems.add(message, file=file, line=line, column=column, value=value)

    def _validate_relations(self) -> None:
        for file in self.files():
            if not file.key or self._unchanged(file):
                continue  # ids of an unchanged file were unique when it was applied
            if file is S.LEDGER and self.header.mode == "PELNY":
                continue  # the unique constraint catches it on insert (see _apply)
            self._report_duplicates(file)

        premises = "zsi_lokale"

        def missing_premises(file: S.FileSpec, where: str = "true", column: str = "ID_LOKALU"):
            rows = self._rows(
                f"SELECT r.line, r.{_q(column)} FROM {file.staging} r "
                f"WHERE {where} AND r.{_q(column)} <> '' AND NOT EXISTS "
                f'(SELECT 1 FROM {premises} p WHERE p."ID_LOKALU" = r.{_q(column)}) '
                f"ORDER BY r.line LIMIT {ROW_PROBLEMS_PER_FILE}"
            )
            self._report(rows, _("no such premises in LOKALE.CSV"), file.name, column)

        for file in self.files():
            if file is S.PREMISES or file is S.PERSONS:
                continue
            if file is S.LEDGER and self.fast_ledger:
                continue  # _check_new_ledger
            if file is S.LEDGER:
                missing_premises(file, "r.\"OPERACJA\" = 'Z'")
            else:
                missing_premises(file)
        rows = self._rows(
            'SELECT r.line, r."ID_OSOBY" FROM zsi_tytuly r WHERE NOT EXISTS '
            '(SELECT 1 FROM zsi_osoby p WHERE p."ID_OSOBY" = r."ID_OSOBY") '
            f"ORDER BY r.line LIMIT {ROW_PROBLEMS_PER_FILE}"
        )
        self._report(rows, _("no such person in OSOBY.CSV"), S.TITLES.name, "ID_OSOBY")
        rows = self._rows(
            'SELECT p.line, p."ID_LOKALU" FROM zsi_lokale p WHERE NOT EXISTS '
            '(SELECT 1 FROM zsi_salda s WHERE s."ID_LOKALU" = p."ID_LOKALU") '
            f"ORDER BY p.line LIMIT {ROW_PROBLEMS_PER_FILE}"
        )
        self._report(rows, _("the premises has no row in SALDA.CSV"), S.PREMISES.name, "ID_LOKALU")

        if self.header.mode == "PRZYROSTOWY":
            rows = self._rows(
                'SELECT r.line, r."ID_ZAPISU" FROM zsi_rozrachunki r WHERE r."OPERACJA" = \'U\' '
                "AND NOT EXISTS (SELECT 1 FROM ebok_ledger_entry e "
                'WHERE e.source_id = r."ID_ZAPISU") '
                f"ORDER BY r.line LIMIT {ROW_PROBLEMS_PER_FILE}"
            )
            self._report(
                rows, _("U removes an entry that does not exist"), S.LEDGER.name, "ID_ZAPISU"
            )
            rows = self._rows(
                'SELECT r.line, r."ID_LOKALU" FROM zsi_rozrachunki r '
                'JOIN ebok_ledger_entry e ON e.source_id = r."ID_ZAPISU" '
                'WHERE r."OPERACJA" = \'U\' AND e.premises_id <> r."ID_LOKALU" '
                f"ORDER BY r.line LIMIT {ROW_PROBLEMS_PER_FILE}"
            )
            self._report(
                rows,
                _("the entry to remove belongs to another premises"),
                S.LEDGER.name,
                "ID_LOKALU",
            )
            # Entries kept from earlier packages must still have their premises.
            rows = self._rows(
                "SELECT e.source_id, e.premises_id FROM ebok_premises gone "
                "JOIN ebok_ledger_entry e ON e.premises_id = gone.source_id "
                "WHERE NOT EXISTS (SELECT 1 FROM zsi_lokale p "
                'WHERE p."ID_LOKALU" = gone.source_id) '
                "AND NOT EXISTS (SELECT 1 FROM zsi_rozrachunki r "
                'WHERE r."ID_ZAPISU" = e.source_id AND r."OPERACJA" = \'U\') '
                f"ORDER BY 1 LIMIT {ROW_PROBLEMS_PER_FILE}"
            )
            for entry, premises_id in rows:
                self.problems.add(
                    _(
                        "the ledger keeps entry %(entry)s of a premises that LOKALE.CSV "
                        "no longer lists; remove the entry (U) or keep the premises"
                    )
                    % {"entry": entry},
                    file=S.PREMISES.name,
                    column="ID_LOKALU",
                    value=premises_id,
                )

    # -- documents --

    def _documents_root(self) -> Path:
        return Path(settings.PRIVATE_STORAGE_ROOT) / self.schema

    @staticmethod
    def stored_name(sha: str) -> str:
        return f"documents/{sha[:2]}/{sha}.pdf"

    def _expected_documents(self) -> dict[str, tuple[str, int]]:
        """File name -> (SHA-256, first line) of every PDF DOKUMENTY.CSV lists."""
        if S.DOCUMENTS.name not in self.header.files:
            return {}
        expected: dict[str, tuple[str, int]] = {}  # file name -> (sha, first line)
        with self.conn.cursor(name="zsi_documents") as cur:
            cur.itersize = 2000
            cur.execute('SELECT line, "PLIK", "SHA256" FROM zsi_dokumenty ORDER BY line')
            for line, name, sha in cur:
                if name in expected and expected[name][0] != sha:
                    self.problems.add(
                        _("the same file is listed with another SHA-256 on line %(line)s")
                        % {"line": expected[name][1]},
                        file=S.DOCUMENTS.name,
                        line=line,
                        column="SHA256",
                        value=sha,
                    )
                    continue
                expected.setdefault(name, (sha, line))
        return expected

    def _store_documents(self, expected: dict[str, tuple[str, int]]) -> None:
        """Hash and store the package's PDFs (files only, no database), check the rest."""
        if S.DOCUMENTS.name not in self.header.files:
            return
        started = time.monotonic()
        root = self._documents_root()
        for name, (sha, line) in expected.items():
            if name in self.package.documents:
                self._store_document(name, sha, line, root)
            elif not (root / self.stored_name(sha)).exists():
                self.problems.add(
                    _("the PDF is missing from DOKUMENTY/ and no earlier package delivered it"),
                    file=S.DOCUMENTS.name,
                    line=line,
                    column="PLIK",
                    value=name,
                )
        for name in sorted(set(self.package.documents) - set(expected)):
            self.problems.add(
                _("a PDF not listed in DOKUMENTY.CSV"), file=f"{S.DOCUMENTS_DIR}/{name}", value=name
            )
        self._timed("documents", started)

    def _store_document(self, name: str, sha: str, line: int, root: Path) -> None:
        # Fernet encrypts a whole message, so the PDF is held in memory (never written
        # in plaintext): at most ZSI_MAX_DOCUMENT_BYTES, refused before it is read (the
        # size a ZIP declares is enforced while reading); the peak is about 4x that.
        if self.package.documents[name] > settings.ZSI_MAX_DOCUMENT_BYTES:
            self.problems.add(
                _("the PDF is larger than the limit of %(limit)s bytes")
                % {"limit": settings.ZSI_MAX_DOCUMENT_BYTES},
                file=f"{S.DOCUMENTS_DIR}/{name}",
                value=str(self.package.documents[name]),
            )
            return
        with self.package.open(name, document=True) as src:
            content = src.read()
        actual = hashlib.sha256(content).hexdigest()
        if actual != sha:
            self.problems.add(
                _("the PDF's SHA-256 is %(actual)s") % {"actual": actual},
                file=S.DOCUMENTS.name,
                line=line,
                column="SHA256",
                value=sha,
            )
            return
        if not content.startswith(b"%PDF-"):
            self.problems.add(
                _("not a PDF file"),
                file=f"{S.DOCUMENTS_DIR}/{name}",
                value=content[:5].decode("latin-1"),
            )
            return
        if self._infected(name, content):
            return
        # Content-addressed by the plaintext: the same bytes always land on the same name.
        stored_documents.store(root / self.stored_name(sha), content)

    def _infected(self, name: str, content: bytes) -> bool:
        """Scan a PDF before it is kept (ASVS 12.4.2). A finding rejects the package;
        a scanner that cannot answer raises, so the package fails and is retried."""
        if not antivirus.configured():
            return False
        signature = antivirus.scan(io.BytesIO(content))
        if signature:
            self.problems.add(
                _("the antivirus scanner found %(signature)s") % {"signature": signature},
                file=f"{S.DOCUMENTS_DIR}/{name}",
            )
        return bool(signature)

    # -- apply --

    def _typed(self, column: S.Column) -> str:
        c = _col(column, "s")
        if column.kind == "date":
            return f"NULLIF({c}, '')::date"
        if column.kind == "decimal":
            return _num(c)
        if column.target == "premises_id" and not column.required:
            return f"NULLIF({c}, '')"
        return c

    def _select(self, file: S.FileSpec, where: str = "true") -> tuple[list[str], str]:
        columns = [c for c in file.columns if c.target]
        targets = [c.target for c in columns]
        exprs = [self._typed(c) for c in columns]
        if file is S.DOCUMENTS:
            targets.append("stored_path")
            exprs.append(
                "'documents/' || substr(s.\"SHA256\", 1, 2) || '/' || s.\"SHA256\" || '.pdf'"
            )
        aliased = ", ".join(f"{e} AS {t}" for e, t in zip(exprs, targets, strict=True))
        select = f"SELECT {aliased} FROM {file.staging} s WHERE {where}"
        return targets, select

    def _upsert(
        self,
        file: S.FileSpec,
        key_target: str,
        key_column: str,
        *,
        snapshot: bool,
        where: str = "true",
    ) -> dict:
        table = file.table
        targets, select = self._select(file, where)
        changes = {}
        if snapshot:
            changes["deleted"] = self._exec(
                f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {file.staging} s "
                f"WHERE s.{_q(key_column)} = t.{key_target})"
            )
        cols = ", ".join(targets)
        empty = not self._rows(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0]
        if empty:
            changes["inserted"] = self._exec(f"INSERT INTO {table} ({cols}) {select}")
            return changes
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in targets if c != key_target)
        old = ", ".join(f"t.{c}" for c in targets)
        new = ", ".join(f"EXCLUDED.{c}" for c in targets)
        changes["written"] = self._exec(
            f"INSERT INTO {table} AS t ({cols}) {select} ON CONFLICT ({key_target}) "
            f"DO UPDATE SET {updates} WHERE ({old}) IS DISTINCT FROM ({new})"
        )
        return changes

    def _replace_groups(self, file: S.FileSpec) -> dict:
        """Keyless files: replace the rows of every premises whose rows changed."""
        table = file.table
        targets, select = self._select(file)
        cols = ", ".join(targets)
        self._exec(f"CREATE TEMP TABLE zsi_new_rows ON COMMIT DROP AS {select}")
        self._exec(
            "CREATE TEMP TABLE zsi_changed ON COMMIT DROP AS SELECT DISTINCT premises_id FROM ("
            f"(SELECT {cols} FROM {table} EXCEPT ALL SELECT {cols} FROM zsi_new_rows) UNION ALL "
            f"(SELECT {cols} FROM zsi_new_rows EXCEPT ALL SELECT {cols} FROM {table})) d"
        )
        deleted = self._exec(
            f"DELETE FROM {table} t USING zsi_changed c WHERE t.premises_id = c.premises_id"
        )
        inserted = self._exec(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM zsi_new_rows n "
            "WHERE n.premises_id IN (SELECT premises_id FROM zsi_changed)"
        )
        self._exec("DROP TABLE zsi_new_rows, zsi_changed")
        return {"deleted": deleted, "inserted": inserted}

    def _apply(self) -> dict:
        changes = {}
        full = self.header.mode == "PELNY"
        if not full:
            self._delta_balance_base()
        for file, key_target, key_column in (
            (S.PREMISES, "source_id", "ID_LOKALU"),
            (S.PERSONS, "source_id", "ID_OSOBY"),
            (S.BALANCES, "premises_id", "ID_LOKALU"),
        ):
            changes[file.name] = self._unchanged(file) or self._upsert(
                file, key_target, key_column, snapshot=True
            )
        if self.fast_ledger:
            changes[S.LEDGER.name] = self._index_new_ledger()
        elif full:
            # Duplicate ids of a full ledger are found by its unique constraint
            # (cheaper than a GROUP BY of millions of rows); then reported in detail.
            try:
                with self.conn.transaction():
                    changes[S.LEDGER.name] = self._upsert(
                        S.LEDGER, "source_id", "ID_ZAPISU", snapshot=True
                    )
            except (psycopg.errors.UniqueViolation, psycopg.errors.CardinalityViolation):
                self._report_duplicates(S.LEDGER)
                if not self.problems:
                    raise
                self.problems.raise_if_any()
            # An upsert that changed nothing raises nothing for a repeated id; the
            # ledger then holds fewer rows than the file.
            if self._rows("SELECT count(*) FROM ebok_ledger_entry")[0][0] != self.counts.get(
                S.LEDGER.name
            ):
                self._report_duplicates(S.LEDGER)
                self.problems.raise_if_any()
        else:
            removed = self._exec(
                "DELETE FROM ebok_ledger_entry t USING zsi_rozrachunki s "
                'WHERE s."OPERACJA" = \'U\' AND t.source_id = s."ID_ZAPISU"'
            )
            written = self._upsert(
                S.LEDGER, "source_id", "ID_ZAPISU", snapshot=False, where="s.\"OPERACJA\" = 'Z'"
            )
            changes[S.LEDGER.name] = {"removed": removed, **written}
        for file in (S.TITLES, S.CHARGES, S.PARAMETERS, S.READINGS):
            if file.name in self.header.files:
                changes[file.name] = self._unchanged(file) or self._replace_groups(file)
            else:
                changes[file.name] = {"deleted": self._exec(f"DELETE FROM {file.table}")}
        if S.DOCUMENTS.name in self.header.files:
            changes[S.DOCUMENTS.name] = self._unchanged(S.DOCUMENTS) or self._upsert(
                S.DOCUMENTS, "source_id", "ID_DOKUMENTU", snapshot=True
            )
        else:
            changes[S.DOCUMENTS.name] = {"deleted": self._exec("DELETE FROM ebok_document")}
        return changes

    # -- a PELNY ledger built beside the live one --

    def _create_new_ledger(self) -> None:
        # Same columns, defaults and identity as the model's table; indexes come
        # after the load (one sort each instead of maintaining them row by row).
        self._exec(
            f"CREATE TABLE {NEW_LEDGER} (LIKE {LEDGER_TABLE} INCLUDING DEFAULTS "
            "INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS "
            "INCLUDING CONSTRAINTS)"
        )
        # Positions from a session cache: no shared sequence access per row (see below).
        self._exec(f"ALTER TABLE {NEW_LEDGER} ALTER COLUMN position SET CACHE 10000")

    def _identity_after_load(self, rows: int) -> None:
        # Back to the model's identity options, continuing right after the loaded rows
        # (one session, one COPY: the positions are 1..rows in file order).
        self._exec(f"ALTER TABLE {NEW_LEDGER} ALTER COLUMN position SET CACHE 1")
        self._exec(
            f"SELECT setval(pg_get_serial_sequence({_lit(NEW_LEDGER)}, 'position'), %s, %s)",
            (max(rows, 1), rows > 0),
        )

    def _check_new_ledger(self) -> None:
        """References and the balance rule of a PELNY ledger, from its sums per premises
        gathered while it streamed (the same rows COPY loaded: no scan of the ledger)."""
        self._exec(
            'CREATE TEMP TABLE zsi_ledger_sums (premises_id text COLLATE "C", total numeric) '
            "ON COMMIT DROP"
        )
        with (
            self.conn.cursor() as cur,
            cur.copy(
                "COPY zsi_ledger_sums FROM STDIN "
                f"(FORMAT csv, DELIMITER ';', ENCODING '{self.header.pg_encoding}')"
            ) as copy,
        ):
            for line in self.ledger_sums.lines():
                copy.write(line)
        unknown = [
            row[0]
            for row in self._rows(
                "SELECT s.premises_id FROM zsi_ledger_sums s WHERE NOT EXISTS "
                '(SELECT 1 FROM zsi_lokale p WHERE p."ID_LOKALU" = s.premises_id) '
                f"ORDER BY 1 LIMIT {ROW_PROBLEMS_PER_FILE}"
            )
        ]
        if unknown:
            rows = self._rows(
                f"SELECT position + 1, premises_id FROM {NEW_LEDGER} WHERE premises_id = ANY(%s) "
                f"ORDER BY position LIMIT {ROW_PROBLEMS_PER_FILE}",
                (unknown,),
            )
            self._report(rows, _("no such premises in LOKALE.CSV"), S.LEDGER.name, "ID_LOKALU")
            return
        self._check_balances("SELECT premises_id, total FROM zsi_ledger_sums")

    def _index_new_ledger(self) -> dict:
        """The live ledger's indexes, built over the loaded rows under temporary names;
        its unique constraint finds duplicate ids."""
        self.new_indexes = []
        rows = self._rows(
            "SELECT i.relname, pg_get_indexdef(i.oid), c.conname, c.contype, x.indisunique "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            f"WHERE x.indrelid = {_lit(LEDGER_TABLE)}::regclass ORDER BY i.relname"
        )
        try:
            with self.conn.transaction():
                for n, (name, definition, constraint, kind, unique) in enumerate(rows):
                    temporary = f"{NEW_LEDGER}_{n}"
                    tail = definition[definition.index(" USING ") :]
                    unique_sql = "UNIQUE " if unique else ""
                    step = time.monotonic()
                    self._exec(f"CREATE {unique_sql}INDEX {temporary} ON {NEW_LEDGER}{tail}")
                    self._timed(f"index {name}", step)
                    self.new_indexes.append((temporary, name, constraint, kind))
        except psycopg.errors.UniqueViolation:
            rows = self._rows(
                "SELECT (array_agg(position ORDER BY position))[2] + 1, source_id "
                f"FROM {NEW_LEDGER} GROUP BY source_id HAVING count(*) > 1 "
                f"ORDER BY 1 LIMIT {ROW_PROBLEMS_PER_FILE}"
            )
            self._report(rows, _("duplicate id"), S.LEDGER.name, "ID_ZAPISU")
            self.problems.raise_if_any()
            raise
        return {"loaded": self.counts[S.LEDGER.name], "replaced_table": True}

    def _swap_ledger(self) -> None:
        """The new ledger takes the live one's place: catalog changes only, last in the
        transaction. Readers see the old ledger until commit, then the new one; the
        names of the table, its indexes, constraints and sequence stay the model's."""
        old_sequence, new_sequence = self._rows(
            f"SELECT pg_get_serial_sequence({_lit(LEDGER_TABLE)}, 'position'), "
            f"pg_get_serial_sequence({_lit(NEW_LEDGER)}, 'position')"
        )[0]
        self._exec(f"DROP TABLE {LEDGER_TABLE}")
        self._exec(f"ALTER TABLE {NEW_LEDGER} RENAME TO {LEDGER_TABLE}")
        for temporary, name, constraint, kind in self.new_indexes:
            if constraint and kind in ("p", "u"):
                what = "PRIMARY KEY" if kind == "p" else "UNIQUE"
                self._exec(
                    f"ALTER TABLE {LEDGER_TABLE} ADD CONSTRAINT {_q(constraint)} "
                    f"{what} USING INDEX {temporary}"
                )
            else:
                self._exec(f"ALTER INDEX {temporary} RENAME TO {_q(name)}")
        if old_sequence and new_sequence:
            bare = old_sequence.rsplit(".", 1)[-1].strip('"')
            self._exec(f"ALTER SEQUENCE {new_sequence} RENAME TO {_q(bare)}")

    def _check_balances(self, sums: str | None = None) -> None:
        """SALDO against the ledger's sums per premises up to STAN_NA (``sums``: a
        query of (premises_id, total); by default summed from the live ledger)."""
        sums = sums or (
            f"SELECT premises_id, sum(debit - credit) AS total FROM {LEDGER_TABLE} "
            f"WHERE posted_on <= {_lit(self.header.as_of.isoformat())} GROUP BY premises_id"
        )
        saldo = _num('s."SALDO"')
        rows = self._rows(
            'SELECT s.line, s."ID_LOKALU", s."SALDO", COALESCE(l.total, 0) FROM zsi_salda s '
            f'LEFT JOIN ({sums}) l ON l.premises_id = s."ID_LOKALU" '
            f"WHERE {saldo} <> COALESCE(l.total, 0) "
            f"ORDER BY s.line LIMIT {ROW_PROBLEMS_PER_FILE}"
        )
        for line, premises, saldo, total in rows:
            self.problems.add(
                _(
                    "SALDO of premises %(premises)s is not the sum of WINIEN − MA of its ledger "
                    "up to STAN_NA (%(total)s)"
                )
                % {"premises": premises, "total": str(total).replace(".", ",")},
                file=S.BALANCES.name,
                line=line,
                column="SALDO",
                value=saldo,
            )

    def file_keys(self) -> dict[str, str]:
        """What identifies each file's content as it lands: its bytes and their encoding."""
        return {
            name: f"{self.header.encoding}:{listed.sha256}"
            for name, listed in self.header.files.items()
        }

    def _unchanged(self, file: S.FileSpec) -> dict | None:
        """A complete file byte-identical to the last applied package's: its table
        already holds exactly these rows (only imports write it), so it is left alone."""
        if file is S.LEDGER or file.name not in self.staged:
            return None
        key = self.file_keys().get(file.name)
        return {"unchanged": True} if key and self.previous_files.get(file.name) == key else None

    def _delta_balance_base(self) -> None:
        """Before a delta is applied: per premises, the stored balance (= its ledger up to
        the previous STAN_NA, which that package's check proved) minus the entries the
        delta replaces or removes. After the apply, adding the delta's own entries up to
        the previous STAN_NA and the ledger between the two dates gives each premises'
        sum without reading its whole ledger (see _check_balances)."""
        found = self._rows("SELECT as_of FROM ebok_data_freshness LIMIT 1")
        if not found:
            return
        before = found[0][0]
        if self._rows("SELECT EXISTS (SELECT 1 FROM ebok_balance WHERE as_of <> %s)", (before,))[0][
            0
        ]:
            return  # not the state a checked package left: sum the whole ledger
        old, new = _lit(before.isoformat()), _lit(self.header.as_of.isoformat())
        self._exec(
            "CREATE TEMP TABLE zsi_balance_base ON COMMIT DROP AS "
            "SELECT premises_id, amount AS total FROM ebok_balance UNION ALL "
            "SELECT e.premises_id, e.credit - e.debit FROM zsi_rozrachunki r CROSS JOIN LATERAL "
            # OFFSET 0 keeps the probe per row (the unique index), never a scan of the ledger.
            f'(SELECT * FROM {LEDGER_TABLE} WHERE source_id = r."ID_ZAPISU" OFFSET 0) e '
            f"WHERE e.posted_on <= {old}"
        )
        posted = _date_of('r."DATA_KSIEGOWANIA"')
        amount = _num('r."WINIEN"') + " - " + _num('r."MA"')
        self.delta_sums = (
            "SELECT premises_id, sum(total) AS total FROM ("
            "SELECT premises_id, total FROM zsi_balance_base UNION ALL "
            f'SELECT r."ID_LOKALU", {amount} FROM zsi_rozrachunki r '
            f"WHERE r.\"OPERACJA\" = 'Z' AND {posted} <= {old} UNION ALL "
            'SELECT s."ID_LOKALU", w.total FROM zsi_salda s CROSS JOIN LATERAL '
            f"(SELECT sum(e.debit - e.credit) AS total FROM {LEDGER_TABLE} e "
            f'WHERE e.premises_id = s."ID_LOKALU" AND e.posted_on > {old} '
            f"AND e.posted_on <= {new}) w"
            ") x GROUP BY premises_id"
        )

    def _write_freshness(self) -> None:
        self._exec("DELETE FROM ebok_data_freshness")
        self._exec(
            "INSERT INTO ebok_data_freshness (package_number, as_of, applied_at, checksum) "
            "VALUES (%s, %s, now(), %s)",
            (self.header.number, self.header.as_of, self.header.checksum),
        )
