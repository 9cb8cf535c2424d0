"""Years of accounting history for one premises, in bulk: for the query-count
tests and the dashboard benchmark (``bench/dashboard_benchmark.py``)."""

from datetime import date
from decimal import Decimal

from ebok.models import Charge, Document, LedgerEntry, MeterReading, Parameter

COMPONENTS = [
    ("EKS", "Eksploatacja", "4.2000", "m2"),
    ("FR", "Fundusz remontowy", "2.5000", "m2"),
    ("WODA", "Zaliczka na wodę", "28.0000", "os."),
    ("CO", "Zaliczka na c.o.", "3.1000", "m2"),
    ("SMIECI", "Odpady komunalne", "32.0000", "os."),
]


def month_starts(years: int, end: date) -> list[date]:
    last = end.year * 12 + end.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(last - years * 12 + 1, last + 1)]


def add_history(premises, *, years: int, end: date, documents: int = 0) -> int:
    """Monthly charges per component, a payment a month, yearly settlements,
    meter readings and parameters; returns the number of ledger entries."""
    area, persons = premises.area, Decimal(2)
    key = premises.source_id
    entries = [
        LedgerEntry(
            source_id=f"{key}-BO",
            premises_id=key,
            kind="BO",
            posted_on=date(2000, 1, 1),
            debit=Decimal("0.00"),
            credit=Decimal("0.00"),
            description="Bilans otwarcia",
        )
    ]
    readings = []
    for number, month in enumerate(month_starts(years, end)):
        monthly = Decimal("0.00")
        for code, name, rate, unit in COMPONENTS:
            amount = ((area if unit == "m2" else persons) * Decimal(rate)).quantize(Decimal("0.01"))
            monthly += amount
            entries.append(
                LedgerEntry(
                    source_id=f"{key}-{number}-{code}",
                    premises_id=key,
                    kind="NAL",
                    posted_on=month,
                    due_on=month.replace(day=15),
                    component=code,
                    description=f"{name} {month:%m.%Y}",
                    debit=amount,
                    credit=Decimal("0.00"),
                )
            )
        entries.append(
            LedgerEntry(
                source_id=f"{key}-{number}-WPL",
                premises_id=key,
                kind="WPL",
                posted_on=month.replace(day=12),
                description="Wpłata",
                debit=Decimal("0.00"),
                credit=monthly,
            )
        )
        if month.month == 4:
            entries.append(
                LedgerEntry(
                    source_id=f"{key}-{number}-ROZ",
                    premises_id=key,
                    kind="ROZ",
                    posted_on=month.replace(day=20),
                    description="Rozliczenie wody",
                    debit=Decimal("0.00"),
                    credit=Decimal("41.30"),
                )
            )
        for meter in ("ZW-1", "CW-1"):
            readings.append(
                MeterReading(
                    premises_id=key,
                    meter=meter,
                    read_on=month,
                    value=Decimal(number * 3),
                    unit="m3",
                )
            )
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    MeterReading.objects.bulk_create(readings, batch_size=2000)
    Charge.objects.bulk_create(
        Charge(
            premises_id=key,
            component=code,
            name=name,
            unit=unit,
            rate=Decimal(rate),
            base=area if unit == "m2" else persons,
            amount=((area if unit == "m2" else persons) * Decimal(rate)).quantize(Decimal("0.01")),
            valid_from=date(end.year, 1, 1),
        )
        for code, name, rate, unit in COMPONENTS
    )
    Parameter.objects.bulk_create(
        [
            Parameter(premises_id=key, code="OSOBY", name="Liczba osób", value="2", unit="os."),
            Parameter(premises_id=key, code="POW", name="Powierzchnia", value=str(area), unit="m2"),
        ]
    )
    Document.objects.bulk_create(
        Document(
            source_id=f"{key}-DOC-{i}",
            premises_id=key,
            kind="ZAW",
            title=f"Zawiadomienie {i}",
            issued_on=date(end.year, 1, 1),
            file_name="z.pdf",
            sha256="0" * 64,
            stored_path=f"documents/{key}-{i}.pdf",
        )
        for i in range(documents)
    )
    return len(entries)
