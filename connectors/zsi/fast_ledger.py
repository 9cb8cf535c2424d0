"""Vectorised check and conversion of a PELNY ledger, chunk by chunk (numpy).

A ledger of millions of rows is checked in Python on whole chunks at C speed
(no per-row Python, no per-field objects). ``convert`` turns a PELNY chunk
into rows that COPY can load straight into typed columns: decimal commas
become dots and the OPERACJA column (always Z in a PELNY package) is dropped.
``check`` only judges a PRZYROSTOWY chunk, whose removal rows (U) carry
nothing but ID_ZAPISU and ID_LOKALU.

The check is conservative: it accepts a chunk only if every row plainly meets
every value rule of ROZRACHUNKI.CSV (``spec.LEDGER`` and docs/zsi-export-v1
section 3). Anything unusual — a quoted field, a value at a length limit in
multi-byte UTF-8, a malformed value — returns None, and the caller falls back
to the exact path (text staging + SQL rules), which names every problem by
line, column and value. So this module never rejects a package itself.
"""

from datetime import date

import numpy as np

from connectors.zsi import spec as S

COLUMNS = len(S.LEDGER.columns)  # 11
(ID, PREMISES, POSTED, DOCUMENT_DATE, DUE, KIND, COMPONENT, DESCRIPTION, DEBIT, CREDIT, OP) = range(
    COLUMNS
)
SEMICOLON, NEWLINE, CR, QUOTE = 59, 10, 13, 34
MINUS, COMMA, DOT, ZERO, NINE = 45, 44, 46, 48, 57
AMOUNT_WIDTH = 16  # "-" + 12 digits + "," + 2 digits
DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
POWERS = 10 ** np.arange(AMOUNT_WIDTH, dtype=np.int64)
UNGROUPED_RUNS = 64  # more runs of premises in a chunk: group them in numpy, not Python


def _code(text: str) -> int:
    raw = text.encode("ascii")
    return (raw[0] << 16) | (raw[1] << 8) | (raw[2] if len(raw) > 2 else 0)


KIND_CODES = np.array([_code(k) for k in S.LEDGER_KINDS], dtype=np.int64)
WITH_COMPONENT = np.array([_code(k) for k in S.LEDGER_KINDS_WITH_COMPONENT], dtype=np.int64)
KOR = _code("KOR")


def _max_length(index: int) -> int:
    return S.LEDGER.columns[index].max_length or 0


def _digits(chars: np.ndarray) -> np.ndarray:
    return (chars >= ZERO) & (chars <= NINE)


def _dates(a: np.ndarray, starts: np.ndarray, lengths: np.ndarray, required: bool):
    """YYYYMMDD numbers of the dates (of the non-empty ones, unless ``required``) when
    every date is YYYY-MM-DD (year from 1000) and exists; else None."""
    if required:
        if (lengths != 10).any():
            return None
        rows = starts
    else:
        if ((lengths != 10) & (lengths != 0)).any():
            return None
        rows = starts[lengths == 10]
    if rows.size == 0:
        return np.zeros(0, dtype=np.int32)
    chars = a[rows[:, None] + np.arange(10)]
    if not _digits(chars[:, [0, 1, 2, 3, 5, 6, 8, 9]]).all() or (chars[:, [4, 7]] != MINUS).any():
        return None
    d = chars.astype(np.int32) - ZERO
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 5] * 10 + d[:, 6]
    day = d[:, 8] * 10 + d[:, 9]
    if (year < 1000).any() or (month < 1).any() or (month > 12).any() or (day < 1).any():
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if not (day <= DAYS[month] + ((month == 2) & leap)).all():
        return None
    return year * 10000 + month * 100 + day


def _amounts(a: np.ndarray, starts: np.ndarray, lengths: np.ndarray, kor: np.ndarray):
    """(comma positions or -1, non-zero flags, values in grosze) of well-formed money
    values, or None."""
    if (lengths < 1).any() or (lengths > AMOUNT_WIDTH).any():
        return None
    offsets = np.arange(int(lengths.max()))
    inside = offsets < lengths[:, None]
    chars = a[np.minimum(starts[:, None] + offsets, a.size - 1)]
    digit = _digits(chars) & inside
    comma = (chars == COMMA) & inside
    negative = chars[:, 0] == MINUS
    if (negative & ~kor).any():  # only a correction (KOR) may be negative
        return None
    other = inside & ~digit & ~comma
    other[:, 0] &= ~negative
    if other.any() or (comma.sum(axis=1) > 1).any():
        return None
    has_comma = comma.any(axis=1)
    position = np.where(has_comma, comma.argmax(axis=1), lengths)
    whole = position - negative
    fraction = lengths - position - 1
    if (whole < 1).any() or (whole > 12).any():
        return None
    if (has_comma & ((fraction < 1) | (fraction > 2))).any():
        return None
    non_zero = (digit & (chars > ZERO)).any(axis=1)
    # At most 14 digits: exact in int64. Each digit weighs 10 to the number of digits
    # after it; a value without its two decimals is scaled up to grosze.
    after = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - digit
    value = np.where(digit, (chars.astype(np.int64) - ZERO) * POWERS[after], 0).sum(axis=1)
    decimals = np.where(has_comma, fraction, 0)
    value *= POWERS[2 - decimals]
    return np.where(has_comma, starts + position, -1), non_zero, np.where(negative, -value, value)


def _fields(chunk: bytes):
    """(bytes, field starts, field ends, line-end width) of whole lines, or None."""
    if QUOTE in chunk or not chunk.endswith(b"\n"):
        return None
    lines = chunk.count(b"\n")
    # CRLF or LF, the same on every line: "\r" may only end the OPERACJA field.
    returns = chunk.count(b"\r")
    if returns not in (0, lines):
        return None
    a = np.frombuffer(chunk, dtype=np.uint8)
    separators = np.flatnonzero((a == SEMICOLON) | (a == NEWLINE))
    if separators.size != lines * COLUMNS:
        return None
    ends = separators.reshape(lines, COLUMNS)
    if (a[ends[:, -1]] != NEWLINE).any() or (a[ends[:, :-1]] != SEMICOLON).any():
        return None
    starts = np.empty_like(ends)
    starts[0, 0] = 0
    starts[1:, 0] = ends[:-1, -1] + 1
    starts[:, 1:] = ends[:, :-1] + 1
    op_length = 1 + (returns > 0)
    if (ends[:, OP] - starts[:, OP] != op_length).any():
        return None
    if returns and (a[ends[:, OP] - 1] != CR).any():
        return None
    lengths = ends - starts
    if (lengths[:, ID] < 1).any() or (lengths[:, ID] > _max_length(ID)).any():
        return None
    if (lengths[:, PREMISES] < 1).any() or (lengths[:, PREMISES] > _max_length(PREMISES)).any():
        return None
    return a, starts, ends, op_length


def _values(a: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """(debit, credit, posting days) of rows that meet every value rule of a written
    entry, or None."""
    lengths = ends - starts
    for index in (COMPONENT, DESCRIPTION):
        if (lengths[:, index] > _max_length(index)).any():
            return None
    posted = _dates(a, starts[:, POSTED], lengths[:, POSTED], required=True)
    if posted is None:
        return None
    for index in (DOCUMENT_DATE, DUE):
        if _dates(a, starts[:, index], lengths[:, index], required=False) is None:
            return None
    kind_length = lengths[:, KIND]
    if ((kind_length != 2) & (kind_length != 3)).any():
        return None
    s = starts[:, KIND]
    third = np.where(kind_length == 3, a[s + 2], 0).astype(np.int64)
    kind = (a[s].astype(np.int64) << 16) | (a[s + 1].astype(np.int64) << 8) | third
    if not np.isin(kind, KIND_CODES).all():
        return None
    if ((lengths[:, COMPONENT] > 0) != np.isin(kind, WITH_COMPONENT)).any():
        return None
    kor = kind == KOR
    debit = _amounts(a, starts[:, DEBIT], lengths[:, DEBIT], kor)
    credit = _amounts(a, starts[:, CREDIT], lengths[:, CREDIT], kor)
    if debit is None or credit is None or (debit[1] == credit[1]).any():
        return None  # exactly one of WINIEN and MA is non-zero
    return debit, credit, posted


class PremisesSums:
    """Per premises, the sum of WINIEN − MA (in grosze) of its entries posted up to
    ``as_of``, gathered from the converted chunks: what the balance rule compares
    SALDO with, without scanning the loaded ledger again. Premises keep the file's
    bytes (COPY converts them as it does the ledger's)."""

    def __init__(self, as_of: date):
        self.until = as_of.year * 10000 + as_of.month * 100 + as_of.day
        self.totals: dict[bytes, int] = {}

    def add(self, a, starts, ends, debit, credit, posted) -> None:
        amount = np.where(posted <= self.until, debit - credit, 0)
        lengths = ends[:, PREMISES] - starts[:, PREMISES]
        offsets = np.arange(int(lengths.max()))
        inside = offsets < lengths[:, None]
        keys = np.where(inside, a[np.minimum(starts[:, PREMISES, None] + offsets, a.size - 1)], 0)
        # Rows of one premises usually follow each other: sum each run, then the runs.
        # (int64 holds them: at most ~37 000 rows of a 1 MiB chunk, each under 10^14.)
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
        runs = np.flatnonzero(first)
        run_totals = np.add.reduceat(amount, runs)
        if len(runs) > UNGROUPED_RUNS:
            # A file not grouped by premises: one sum per premises of the chunk, in numpy.
            as_bytes = np.ascontiguousarray(keys[runs]).view(f"V{keys.shape[1]}").ravel()
            _unique, firsts, which = np.unique(as_bytes, return_index=True, return_inverse=True)
            totals = np.zeros(len(firsts), dtype=np.int64)
            np.add.at(totals, which, run_totals)
            runs, run_totals = runs[firsts], totals
        for row, total in zip(runs.tolist(), run_totals.tolist(), strict=True):
            key = a[starts[row, PREMISES] : ends[row, PREMISES]].tobytes()
            self.totals[key] = self.totals.get(key, 0) + total

    def lines(self):
        """``premises;total`` CSV lines (total in złoty, two decimals)."""
        for key, total in self.totals.items():
            sign = "-" if total < 0 else ""
            whole, grosze = divmod(abs(total), 100)
            yield key + f";{sign}{whole}.{grosze:02d}\n".encode("ascii")


def convert(chunk: bytes, sums: PremisesSums | None = None) -> bytes | None:
    """Rows of a PELNY ``chunk`` (whole lines) as typed COPY rows, or None; ``sums``
    gathers the balance rule's totals of the rows."""
    fields = _fields(chunk)
    if fields is None:
        return None
    a, starts, ends, op_length = fields
    if (a[starts[:, OP]] != ord("Z")).any():
        return None
    amounts = _values(a, starts, ends)
    if amounts is None:
        return None
    debit, credit, posted = amounts
    if sums is not None:
        sums.add(a, starts, ends, debit[2], credit[2], posted)
    out = a.copy()
    for commas, _non_zero, _value in (debit, credit):
        out[commas[commas >= 0]] = DOT
    # Drop ";Z" (and "\r") before each line end: the typed table has no OPERACJA.
    drop = np.concatenate([ends[:, CREDIT] + k for k in range(1 + op_length)])
    return np.delete(out, drop).tobytes()


def check(chunk: bytes) -> bool:
    """Whether every row of a PRZYROSTOWY ``chunk`` (whole lines) plainly meets the rules."""
    fields = _fields(chunk)
    if fields is None:
        return False
    a, starts, ends, _op_length = fields
    op = a[starts[:, OP]]
    written = op == ord("Z")
    if not (written | (op == ord("U"))).all():
        return False
    if not written.any():
        return True
    return _values(a, starts[written], ends[written]) is not None
