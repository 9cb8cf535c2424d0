"""A deterministic generator of valid ZSI-EBOK v1 packages of any size.

``generate_full(out, premises=N, years=Y, seed=S)`` writes a PELNY package;
``generate_delta(previous, out)`` a valid PRZYROSTOWY follow-up of a package
written by this generator (full or delta). ``out`` ending in ``.zip`` gives a
ZIP, anything else a folder. The same arguments always give the same bytes.

Memory stays flat: rows are written as they are made; a delta keeps one
running total per premises, never the ledger.
"""

import datetime as dt
import hashlib
import io
import random
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

from connectors.zsi import spec as S
from connectors.zsi.pdf import tiny_pdf

STREETS = [
    "ul. Młyńska",
    "ul. Łączna",
    "ul. 1 Maja",
    "ul. Kościuszki",
    "ul. Śląska",
    "ul. Żołnierzy Września",
    "ul. Źródlana",
    "ul. Ogrodowa",
    "al. Gąsienicowa",
]
LAST_NAMES = [
    ("Michalski", "Michalska"),
    ("Szymański", "Szymańska"),
    ("Wiśniewski", "Wiśniewska"),
    ("Król", "Król"),
    ("Kozłowski", "Kozłowska"),
    ("Wójcik", "Wójcik"),
    ("Nowak", "Nowak"),
    ("Woźniak", "Woźniak"),
    ("Zieliński", "Zielińska"),
    ("Kamiński", "Kamińska"),
]
MEN = ["Grzegorz", "Paweł", "Piotr", "Tomasz", "Krzysztof", "Łukasz", "Michał"]
WOMEN = ["Łucja", "Anna", "Zofia", "Małgorzata", "Agnieszka", "Elżbieta", "Ewa"]
COMPANIES = ['Sklep "Pod Lipą" s.c.', "Usługi Remontowe Żak sp. z o.o.", "Apteka Źródło"]
# code, name, unit, rate in grosze per unit, per area (m2) or per person
COMPONENTS = {
    "EKSPL": ("Eksploatacja", "m2", 320, True),
    "REM": ("Fundusz remontowy", "m2", 210, True),
    "WODA": ("Zaliczka woda i ścieki", "os.", 4250, False),
    "CO": ("Zaliczka centralne ogrzewanie", "m2", 375, True),
    "CW": ("Zaliczka ciepła woda", "os.", 3100, False),
    "SMIECI": ("Gospodarowanie odpadami", "os.", 2900, False),
    "DZW": ("Dźwig osobowy", "os.", 940, False),
}
KIND_COMPONENTS = {
    "M": ["EKSPL", "REM", "WODA", "CO", "CW", "SMIECI", "DZW"],
    "G": ["EKSPL", "REM"],
    "U": ["EKSPL", "REM", "WODA", "CO"],
    "P": ["EKSPL"],
}
DEFAULT_AS_OF = dt.date(2026, 11, 20)


def money(grosze: int) -> str:
    sign = "-" if grosze < 0 else ""
    grosze = abs(grosze)
    return f"{sign}{grosze // 100},{grosze % 100:02d}"


def decimal2(hundredths: int) -> str:
    return money(hundredths)


def field(value: str) -> str:
    if ";" in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def nrb(rng: random.Random) -> str:
    bban = "10202137" + "".join(str(rng.randrange(10)) for _ in range(16))
    check = 98 - int(bban + "252100") % 97
    return f"{check:02d}{bban}"


def half_up_grosze(base_hundredths: int, rate_grosze: int) -> int:
    # base (1/100 unit) × rate (1/100 PLN) = 1/10000 PLN; half-up to grosze.
    return (base_hundredths * rate_grosze + 50) // 100


class _CsvOut:
    def __init__(self, raw, encoding: str, header: list[str]):
        self.raw = raw
        self.encoding = encoding
        self.digest = hashlib.sha256()
        self.rows = 0
        self._buffer: list[str] = []
        self._write_text(";".join(header) + "\r\n")

    def _write_text(self, text: str) -> None:
        data = text.encode(self.encoding)
        self.digest.update(data)
        self.raw.write(data)

    def row(self, values: Iterable[str]) -> None:
        self._buffer.append(";".join(values))
        self.rows += 1
        if len(self._buffer) >= 5000:
            self.flush()

    def line(self, text: str) -> None:
        self._buffer.append(text)
        self.rows += 1
        if len(self._buffer) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._write_text("\r\n".join(self._buffer) + "\r\n")
            self._buffer = []


class PackageWriter:
    """Writes a package as a ZIP (``out`` ends with .zip) or a folder."""

    def __init__(self, out: Path, encoding: str, stamp: dt.datetime):
        self.out = Path(out)
        self.encoding = encoding
        self.codec = "cp1250" if encoding == "CP1250" else "utf-8"
        self.stamp = stamp
        self.listed: list[tuple[str, int, str]] = []
        if self.out.exists():
            if self.out.is_dir():
                shutil.rmtree(self.out)
            else:
                self.out.unlink()
        # Files are written side by side (several at once), then zipped if asked.
        self.zip = self.out.suffix.lower() == ".zip"
        self.folder = self.out.with_name(self.out.name + ".parts") if self.zip else self.out
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)

    def _open(self, name: str):
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")  # noqa: SIM115 - closed by csv()

    def csv(self, file: S.FileSpec):
        writer = self

        class _Ctx:
            def __enter__(self):
                self.raw = writer._open(file.name)
                self.buffered = self.raw
                self.csv = _CsvOut(self.buffered, writer.codec, file.header)
                return self.csv

            def __exit__(self, *exc):
                self.csv.flush()
                if self.buffered is not self.raw:
                    self.buffered.flush()
                self.raw.close()
                writer.listed.append((file.name, self.csv.rows, self.csv.digest.hexdigest()))

        return _Ctx()

    def copy(self, file: S.FileSpec, source: "PackageReaderLite") -> None:
        digest = hashlib.sha256()
        newlines = 0
        last = b""
        with self._open(file.name) as out, source.open(file.name) as src:
            while chunk := src.read(1024 * 1024):
                digest.update(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
                out.write(chunk)
        rows = newlines - 1 if last == b"\n" else newlines
        self.listed.append((file.name, rows, digest.hexdigest()))

    def document(self, name: str, data: bytes) -> None:
        with self._open(f"{S.DOCUMENTS_DIR}/{name}") as out:
            out.write(data)

    def finish(self, values: dict) -> Path:
        lines = [f"{k}={v}" for k, v in values.items()]
        lines.append(f"KODOWANIE={self.encoding}")
        lines += [f"PLIK={name};{rows};{sha}" for name, rows, sha in self.listed]
        with self._open(S.HEADER_FILE) as out:
            out.write(("\r\n".join(lines) + "\r\n").encode("ascii"))
        if self.zip:
            stamp = self.stamp.timetuple()[:6]
            with zipfile.ZipFile(self.out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                for path in sorted(self.folder.rglob("*")):
                    if path.is_file():
                        info = zipfile.ZipInfo(path.relative_to(self.folder).as_posix(), stamp)
                        info.compress_type = zipfile.ZIP_DEFLATED
                        with (
                            open(path, "rb") as src,
                            archive.open(info, "w", force_zip64=True) as dst,
                        ):
                            shutil.copyfileobj(src, dst, 1024 * 1024)
            shutil.rmtree(self.folder)
        return self.out


class PackageReaderLite:
    """Reads a package this generator wrote (ZIP or folder), for deltas."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path) if self.path.is_file() else None

    def open(self, name: str):
        if self.zip is not None:
            return self.zip.open(name)
        return open(self.path / name, "rb")  # noqa: SIM115

    def has(self, name: str) -> bool:
        if self.zip is not None:
            return name in self.zip.namelist()
        return (self.path / name).exists()

    def header(self) -> dict:
        with self.open(S.HEADER_FILE) as f:
            text = f.read().decode("ascii")
        values = {}
        for line in text.splitlines():
            key, value = line.split("=", 1)
            if key != "PLIK":
                values[key] = value
        return values

    def lines(self, name: str, codec: str):
        with self.open(name) as f:
            stream = io.TextIOWrapper(f, encoding=codec, newline="")
            next(stream)
            for line in stream:
                yield line.rstrip("\r\n")

    def close(self):
        if self.zip is not None:
            self.zip.close()


def _month_starts(first: dt.date, last: dt.date):
    year, month = first.year, first.month
    while dt.date(year, month, 1) <= last:
        yield dt.date(year, month, 1)
        month += 1
        if month == 13:
            year, month = year + 1, 1


def _premises_id(i: int) -> str:
    return f"L{i:06d}"


def generate_full(
    out: Path | str,
    *,
    premises: int,
    years: int,
    seed: int,
    code: str = "ODRA",
    number: int = 1,
    as_of: dt.date = DEFAULT_AS_OF,
    encoding: str = "CP1250",
    documents: bool = True,
) -> Path:
    """Write a PELNY package; returns its path."""
    stamp = dt.datetime.combine(as_of + dt.timedelta(days=4), dt.time(2, 0, 13))
    writer = PackageWriter(Path(out), encoding, stamp)
    first_month = dt.date(as_of.year - years + 1, 1, 1)
    months = list(_month_starts(first_month, as_of))

    def prng(i: int) -> random.Random:
        return random.Random(seed * 1_000_003 + i)

    def premises_facts(i: int):
        rng = prng(i)
        roll = rng.random()
        kind = "M" if roll < 0.9 else "G" if roll < 0.95 else "U" if roll < 0.98 else "P"
        area = rng.randrange(2500, 9500) if kind in "MU" else rng.randrange(1200, 3500)
        persons = rng.randrange(1, 6) if kind == "M" else 1
        return rng, kind, area, persons

    with (
        writer.csv(S.PREMISES) as lokale,
        writer.csv(S.PERSONS) as osoby,
        writer.csv(S.TITLES) as tytuly,
        writer.csv(S.CHARGES) as naliczenia,
        writer.csv(S.PARAMETERS) as parametry,
        writer.csv(S.READINGS) as odczyty,
    ):
        person_no = 0
        for i in range(1, premises + 1):
            rng, kind, area, persons = premises_facts(i)
            pid = _premises_id(i)
            street = rng.choice(STREETS)
            lokale.row(
                [
                    pid,
                    str(10000 + i),
                    kind,
                    f"{street} {rng.randrange(1, 80)}",
                    str(rng.randrange(1, 90)) if kind != "P" else "",
                    "55-200",
                    "Oława",
                    decimal2(area),
                    nrb(rng),
                ]
            )
            holders = 2 if rng.random() < 0.15 else 1
            for h in range(holders):
                person_no += 1
                oid = f"O{person_no:06d}"
                if kind == "U" and h == 0:
                    osoby.row([oid, field(rng.choice(COMPANIES)), "", "", "", ""])
                else:
                    male = rng.random() < 0.5
                    last = rng.choice(LAST_NAMES)[0 if male else 1]
                    first = rng.choice(MEN if male else WOMEN)
                    email = f"osoba{person_no}@example.pl" if rng.random() < 0.6 else ""
                    phone = f"+48 6{rng.randrange(10**7, 10**8)}" if rng.random() < 0.5 else ""
                    osoby.row([oid, last, first, email, phone, ""])
                since = dt.date(
                    2005 + rng.randrange(20), rng.randrange(1, 13), rng.randrange(1, 29)
                )
                tytuly.row([oid, pid, rng.choice("LWON"), since.isoformat(), ""])
            if rng.random() < 0.1:  # a former holder: an ended title
                person_no += 1
                oid = f"O{person_no:06d}"
                osoby.row([oid, rng.choice(LAST_NAMES)[0], rng.choice(MEN), "", "", ""])
                tytuly.row([oid, pid, "W", "2001-03-01", "2004-12-31"])
            for component in KIND_COMPONENTS[kind]:
                name, unit, rate, per_area = COMPONENTS[component]
                base = area if per_area else persons * 100
                naliczenia.row(
                    [
                        pid,
                        component,
                        name,
                        decimal2(base),
                        unit,
                        money(rate),
                        money(half_up_grosze(base, rate)),
                        f"{as_of.year}-01-01",
                    ]
                )
            parametry.row([pid, "POW", "Powierzchnia użytkowa", decimal2(area), "m2", "2020-01-01"])
            if kind == "M":
                parametry.row([pid, "OSOBY", "Liczba osób", str(persons), "os.", "2020-01-01"])
                meter = f"ZW-{rng.randrange(10**6, 10**7)}"
                parametry.row(
                    [pid, "WODOMIERZ_ZW", "Wodomierz wody zimnej", meter, "", "2020-01-01"]
                )
                reading = rng.randrange(10000, 90000)
                for year in range(first_month.year, as_of.year + 1):
                    day = dt.date(year, 6, 30)
                    if day > as_of:
                        break
                    reading += rng.randrange(20000, 90000)
                    odczyty.row(
                        [
                            pid,
                            "ZW",
                            day.isoformat(),
                            f"{reading // 1000},{reading % 1000:03d}",
                            "m3",
                        ]
                    )

    # The ledger and the balances, premises by premises, with the same RNGs.
    with writer.csv(S.LEDGER) as ledger, writer.csv(S.BALANCES) as salda:
        for i in range(1, premises + 1):
            rng, kind, area, persons = premises_facts(i)
            rng = random.Random(seed * 7_000_009 + i)
            pid = _premises_id(i)
            seq = 0
            balance = 0

            def entry(posted, due, kind_, component, text, debit, credit, pid=pid):
                nonlocal seq, balance
                seq += 1
                balance += debit - credit
                ledger.line(
                    f"{pid}-{seq:05d};{pid};{posted};{posted};{due};{kind_};{component};"
                    f"{text};{money(debit)};{money(credit)};Z"
                )

            opening = rng.randrange(-5000, 30000) or 1
            entry(
                months[0].isoformat(),
                "",
                "BO",
                "",
                "Bilans otwarcia",
                max(opening, 0),
                max(-opening, 0),
            )
            monthly = [
                (c, half_up_grosze(area if COMPONENTS[c][3] else persons * 100, COMPONENTS[c][2]))
                for c in KIND_COMPONENTS[kind]
            ]
            total = sum(a for _c, a in monthly)
            for month in months:
                posted = month.isoformat()
                due = month.replace(day=10).isoformat()
                label = f"{month.month:02d}/{month.year}"
                for component, amount in monthly:
                    entry(
                        posted, due, "NAL", component, f"Naliczenie {component} {label}", amount, 0
                    )
                pay_day = month.replace(day=12)
                if pay_day <= as_of and rng.random() < 0.93:
                    paid = max(total + rng.randrange(-3000, 3000), 100)
                    entry(pay_day.isoformat(), "", "WPL", "", "Wpłata", 0, paid)
                if month.month == 3 and kind == "M" and month.replace(day=20) <= as_of:
                    amount = rng.randrange(-20000, 30000) or 100
                    entry(
                        month.replace(day=20).isoformat(),
                        "",
                        "ROZ",
                        "WODA",
                        f"Rozliczenie wody {month.year - 1}",
                        max(amount, 0),
                        max(-amount, 0),
                    )
                if rng.random() < 0.02 and month.replace(day=15) <= as_of:
                    entry(
                        month.replace(day=15).isoformat(),
                        "",
                        "ODS",
                        "",
                        "Odsetki",
                        rng.randrange(50, 900),
                        0,
                    )
                if rng.random() < 0.01 and month.replace(day=15) <= as_of:
                    entry(
                        month.replace(day=15).isoformat(),
                        "",
                        "KOR",
                        "EKSPL",
                        "Korekta naliczenia (storno)",
                        -rng.randrange(100, 5000),
                        0,
                    )
            salda.row([pid, money(balance), as_of.isoformat()])

    values = _header_values(code, number, "PELNY", as_of, stamp)
    if documents:
        _write_documents(writer, premises, as_of)
    return writer.finish(values)


def _header_values(code, number, mode, as_of, stamp) -> dict:
    return {
        "FORMAT": "ZSI-EBOK",
        "WERSJA": "1",
        "KOD_SPOLDZIELNI": code,
        "NUMER_PACZKI": str(number),
        "TRYB": mode,
        "STAN_NA": as_of.isoformat(),
        "WYGENEROWANO": stamp.isoformat(),
    }


COOPERATIVE_DOCUMENTS = [
    ("DUCH0001", "UCH", "Uchwała nr 12/2026 Rady Nadzorczej", "2026-03-15", "DUCH0001.pdf"),
    ("DREG0001", "REG", "Regulamin e-BOK", "2018-09-01", "DREG0001.pdf"),
]


def _write_documents(writer: PackageWriter, premises: int, as_of: dt.date):
    with writer.csv(S.DOCUMENTS) as index:
        for i in range(1, premises + 1):
            pid = _premises_id(i)
            name = f"D{i:06d}.pdf"
            data = tiny_pdf(f"Zawiadomienie o wysokosci oplat {pid}")
            index.row(
                [
                    f"D{i:06d}",
                    pid,
                    "ZAW",
                    f"Zawiadomienie o wysokości opłat {pid}",
                    f"{as_of.year}-01-02",
                    name,
                    hashlib.sha256(data).hexdigest(),
                ]
            )
            writer.document(name, data)
        for doc_id, kind, title, date, name in COOPERATIVE_DOCUMENTS:
            data = tiny_pdf(title)
            index.row([doc_id, "", kind, title, date, name, hashlib.sha256(data).hexdigest()])
            writer.document(name, data)


def generate_delta(
    previous: Path | str,
    out: Path | str,
    *,
    seed: int = 0,
    encoding: str | None = None,
    ledger_share: float | None = None,
) -> Path:
    """Write a valid PRZYROSTOWY package on top of ``previous`` (written by this
    module): a new month of charges and payments for every premises, some
    entries replaced, some removed, balances that add up, one new document.

    ``ledger_share`` (e.g. 0.01) sizes the delta's ledger to about that share of
    the previous ledger: only an evenly spread part of the premises get the new
    month (as when a system sends the month's postings in several deltas)."""
    source = PackageReaderLite(Path(previous))
    try:
        header = source.header()
        codec = "cp1250" if header["KODOWANIE"] == "CP1250" else "utf-8"
        encoding = encoding or header["KODOWANIE"]
        number = int(header["NUMER_PACZKI"]) + 1
        old_as_of = dt.date.fromisoformat(header["STAN_NA"])
        as_of = (old_as_of.replace(day=1) + dt.timedelta(days=32)).replace(day=old_as_of.day)
        stamp = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(2, 0, 13))
        writer = PackageWriter(Path(out), encoding, stamp)
        if encoding == header["KODOWANIE"]:
            for file in (S.PREMISES, S.PERSONS, S.TITLES, S.CHARGES, S.PARAMETERS, S.READINGS):
                writer.copy(file, source)
        else:
            for file in (S.PREMISES, S.PERSONS, S.TITLES, S.CHARGES, S.PARAMETERS, S.READINGS):
                with writer.csv(file) as target:
                    for line in source.lines(file.name, codec):
                        target.line(line)

        balances: dict[str, int] = {}
        for line in source.lines(S.BALANCES.name, codec):
            pid, saldo, _as_of = line.split(";")
            balances[pid] = _grosze(saldo)
        charges: dict[str, list[tuple[str, int]]] = {}
        for line in source.lines(S.CHARGES.name, codec):
            cells = line.split(";")
            charges.setdefault(cells[0], []).append((cells[1], _grosze(cells[6])))
        rng = random.Random(seed * 31 + number)
        label = f"{as_of.month:02d}/{as_of.year}"
        month = as_of.replace(day=1)
        touched: set[str] = set()
        previous_rows = 0
        with writer.csv(S.LEDGER) as ledger:
            # Remove or rewrite the first written entry of every 50th premises.
            for line in source.lines(S.LEDGER.name, codec):
                previous_rows += 1
                cells = line.split(";")
                if cells[-1] != "Z" or cells[1] in touched:
                    continue
                pid = cells[1]
                index = int(pid[1:])
                if index % 50 not in (0, 25) or cells[5] != "NAL":
                    continue
                touched.add(pid)
                old = _grosze(cells[8]) - _grosze(cells[9])
                if index % 50 == 0:
                    ledger.line(f"{cells[0]};{pid};;;;;;;;;U")
                    balances[pid] -= old
                else:
                    new_amount = _grosze(cells[8]) + 100
                    cells[7] = cells[7] + " (korekta)"
                    cells[8] = money(new_amount)
                    ledger.line(";".join(cells))
                    balances[pid] += new_amount - _grosze(cells[9]) - old
            per_premises = 0.9 + sum(len(c) for c in charges.values()) / max(len(balances), 1)
            wanted = (ledger_share or 0) * previous_rows - len(touched)
            share = max(0.0, min(1.0, wanted / (per_premises * max(len(balances), 1))))
            for position, pid in enumerate(sorted(balances)):
                # Evenly spread: premises whose running share crosses a whole number.
                crosses = int((position + 1) * share) > int(position * share)
                if ledger_share is not None and not crosses:
                    continue
                seq = 0
                for component, amount in charges.get(pid, []):
                    seq += 1
                    ledger.line(
                        f"{pid}-P{number}-{seq:03d};{pid};{month.isoformat()};{month.isoformat()};"
                        f"{month.replace(day=10).isoformat()};NAL;{component};"
                        f"Naliczenie {component} {label};{money(amount)};0,00;Z"
                    )
                    balances[pid] += amount
                if rng.random() < 0.9:
                    seq += 1
                    paid = rng.randrange(10000, 90000)
                    ledger.line(
                        f"{pid}-P{number}-{seq:03d};{pid};{as_of.isoformat()};"
                        f"{as_of.isoformat()};;WPL;;Wpłata;0,00;{money(paid)};Z"
                    )
                    balances[pid] -= paid
        with writer.csv(S.BALANCES) as salda:
            for pid in sorted(balances):
                salda.row([pid, money(balances[pid]), as_of.isoformat()])
        # Documents: the index is complete; earlier PDFs are left out (allowed),
        # one new cooperative-wide document comes with its PDF.
        title = f"Uchwała nr {number}/{as_of.year} Zarządu"
        data = tiny_pdf(title)
        name = f"DUCH{number:04d}.pdf"
        with writer.csv(S.DOCUMENTS) as index:
            if source.has(S.DOCUMENTS.name):
                for line in source.lines(S.DOCUMENTS.name, codec):
                    index.line(line)
            index.row(
                [
                    f"DUCH{number:04d}",
                    "",
                    "UCH",
                    title,
                    as_of.isoformat(),
                    name,
                    hashlib.sha256(data).hexdigest(),
                ]
            )
        writer.document(name, data)
        values = _header_values(header["KOD_SPOLDZIELNI"], number, "PRZYROSTOWY", as_of, stamp)
        return writer.finish(values)
    finally:
        source.close()


def _grosze(text: str) -> int:
    negative = text.startswith("-")
    whole, _sep, frac = text.lstrip("-").partition(",")
    value = int(whole) * 100 + int((frac + "00")[:2])
    return -value if negative else value
