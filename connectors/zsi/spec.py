"""The files of a ZSI-EBOK v1 package: columns, value rules and where they land.

Every rule here is written once and used twice: as an SQL predicate over the
raw staging table (validation) and as an SQL expression that casts the raw
text into the target column (apply). See ``docs/zsi-export-v1`` section 3.
"""

from dataclasses import dataclass, field

HEADER_FILE = "NAGLOWEK.TXT"
DOCUMENTS_DIR = "DOKUMENTY"

PREMISES_KINDS = ("M", "G", "U", "P")
TITLE_KINDS = ("L", "W", "O", "N")
LEDGER_KINDS = ("BO", "NAL", "WPL", "KOR", "ODS", "ROZ")
LEDGER_KINDS_WITH_COMPONENT = ("NAL", "ROZ", "KOR")
LEDGER_OPERATIONS = ("Z", "U")
DOCUMENT_KINDS = ("ZAW", "ROZ_WODA", "ROZ_CO", "UPO", "UCH", "REG", "SPR", "INNE")
MODES = ("PELNY", "PRZYROSTOWY")
ENCODINGS = {"CP1250": "WIN1250", "UTF-8": "UTF8"}  # header value -> PostgreSQL name


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text | code | date | decimal | nrb
    required: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    scale: int = 2  # decimals allowed (decimal)
    digits: int = 12  # digits before the comma (decimal)
    signed: bool = False
    target: str | None = None  # column of the target table

    @property
    def ident(self) -> str:
        return f'"{self.name}"'


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    table: str | None = None  # target table
    key: tuple[str, ...] = ()  # columns unique within the file
    staging: str = ""
    extra_targets: dict = field(default_factory=dict)

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _text(name, target, max_length, required=True):
    return Column(name, "text", required=required, max_length=max_length, target=target)


def _code(name, target, choices):
    return Column(name, "code", choices=choices, target=target)


def _date(name, target, required=True):
    return Column(name, "date", required=required, target=target)


def _money(name, target, signed=True):
    return Column(name, "decimal", scale=2, digits=12, signed=signed, target=target)


PREMISES = FileSpec(
    "LOKALE.CSV",
    (
        _text("ID_LOKALU", "source_id", 20),
        _text("NR_KARTOTEKI", "account_number", 40),
        _code("RODZAJ", "kind", PREMISES_KINDS),
        _text("ADRES", "street_address", 200),
        _text("NR_LOKALU", "unit_number", 20, required=False),
        _text("KOD_POCZTOWY", "postal_code", 10),
        _text("MIEJSCOWOSC", "city", 100),
        Column("POWIERZCHNIA", "decimal", scale=2, digits=8, target="area"),
        Column("RACHUNEK", "nrb", target="bank_account"),
    ),
    table="ebok_premises",
    key=("ID_LOKALU",),
    staging="zsi_lokale",
)

PERSONS = FileSpec(
    "OSOBY.CSV",
    (
        _text("ID_OSOBY", "source_id", 40),
        _text("NAZWISKO", "last_name", 200),
        _text("IMIE", "first_name", 100, required=False),
        _text("EMAIL", "email", 254, required=False),
        _text("TELEFON", "phone", 50, required=False),
        _text("ADRES_KORESPONDENCYJNY", "correspondence_address", 300, required=False),
    ),
    table="ebok_person",
    key=("ID_OSOBY",),
    staging="zsi_osoby",
)

TITLES = FileSpec(
    "TYTULY.CSV",
    (
        _text("ID_OSOBY", "person_id", 40),
        _text("ID_LOKALU", "premises_id", 20),
        _code("TYTUL", "kind", TITLE_KINDS),
        _date("OD", "valid_from"),
        _date("DO", "valid_to", required=False),
    ),
    table="ebok_title",
    staging="zsi_tytuly",
)

BALANCES = FileSpec(
    "SALDA.CSV",
    (
        _text("ID_LOKALU", "premises_id", 20),
        _money("SALDO", "amount"),
        _date("STAN_NA", "as_of"),
    ),
    table="ebok_balance",
    key=("ID_LOKALU",),
    staging="zsi_salda",
)

LEDGER = FileSpec(
    "ROZRACHUNKI.CSV",
    (
        _text("ID_ZAPISU", "source_id", 40),
        _text("ID_LOKALU", "premises_id", 20),
        _date("DATA_KSIEGOWANIA", "posted_on"),
        _date("DATA_DOKUMENTU", "document_date", required=False),
        _date("TERMIN", "due_on", required=False),
        _code("RODZAJ", "kind", LEDGER_KINDS),
        _text("SKLADNIK", "component", 20, required=False),
        _text("OPIS", "description", 300, required=False),
        _money("WINIEN", "debit"),
        _money("MA", "credit"),
        _code("OPERACJA", None, LEDGER_OPERATIONS),
    ),
    table="ebok_ledger_entry",
    key=("ID_ZAPISU",),
    staging="zsi_rozrachunki",
)

CHARGES = FileSpec(
    "NALICZENIA.CSV",
    (
        _text("ID_LOKALU", "premises_id", 20),
        _text("SKLADNIK", "component", 20),
        _text("NAZWA", "name", 200),
        Column("PODSTAWA", "decimal", scale=4, digits=10, target="base"),
        _text("JEDNOSTKA", "unit", 20, required=False),
        Column("STAWKA", "decimal", scale=4, digits=10, target="rate"),
        _money("KWOTA", "amount"),
        _date("OD", "valid_from"),
    ),
    table="ebok_charge",
    key=("ID_LOKALU", "SKLADNIK"),
    staging="zsi_naliczenia",
)

PARAMETERS = FileSpec(
    "PARAMETRY.CSV",
    (
        _text("ID_LOKALU", "premises_id", 20),
        _text("KOD", "code", 40),
        _text("NAZWA", "name", 200),
        _text("WARTOSC", "value", 200),
        _text("JEDNOSTKA", "unit", 20, required=False),
        _date("OD", "valid_from", required=False),
    ),
    table="ebok_parameter",
    staging="zsi_parametry",
)

READINGS = FileSpec(
    "ODCZYTY.CSV",
    (
        _text("ID_LOKALU", "premises_id", 20),
        _text("LICZNIK", "meter", 60),
        _date("DATA", "read_on"),
        Column("ODCZYT", "decimal", scale=3, digits=11, target="value"),
        _text("JEDNOSTKA", "unit", 20, required=False),
    ),
    required=False,
    table="ebok_meter_reading",
    staging="zsi_odczyty",
)

DOCUMENTS = FileSpec(
    "DOKUMENTY.CSV",
    (
        _text("ID_DOKUMENTU", "source_id", 40),
        _text("ID_LOKALU", "premises_id", 20, required=False),
        _code("RODZAJ", "kind", DOCUMENT_KINDS),
        _text("TYTUL", "title", 300),
        _date("DATA", "issued_on"),
        _text("PLIK", "file_name", 200),
        Column("SHA256", "text", max_length=64, target="sha256"),
    ),
    required=False,
    table="ebok_document",
    key=("ID_DOKUMENTU",),
    staging="zsi_dokumenty",
)

FILES: tuple[FileSpec, ...] = (
    PREMISES,
    PERSONS,
    TITLES,
    BALANCES,
    LEDGER,
    CHARGES,
    PARAMETERS,
    READINGS,
    DOCUMENTS,
)
FILES_BY_NAME = {f.name: f for f in FILES}

# The HTTP form names each file by a lowercase word (contract section 5).
REST_NAMES = {
    "lokale": PREMISES,
    "osoby": PERSONS,
    "tytuly": TITLES,
    "salda": BALANCES,
    "rozrachunki": LEDGER,
    "naliczenia": CHARGES,
    "parametry": PARAMETERS,
    "odczyty": READINGS,
    "dokumenty": DOCUMENTS,
}
