"""Builders of accounting data and accounts for tests (ORM, inside a schema).

Bulk, realistic data comes from the ZSI package generator instead; these are
for small, readable scenarios.
"""

from datetime import date
from decimal import Decimal

from ebok.accounts.models import User
from ebok.models import (
    Balance,
    Charge,
    DataFreshness,
    Document,
    LedgerEntry,
    MeterReading,
    Parameter,
    Person,
    Premises,
    Title,
)

RESIDENT_PASSWORD = "Zielona-łąka-nad-Odrą-7"


def nrb_for(number: int) -> str:
    """A 26-digit Polish account number with valid ISO 13616 check digits."""
    bban = f"1020{number:020d}"[:24]
    numeric = int(bban + "2521" + "00")  # P=25, L=21
    check = 98 - numeric % 97
    return f"{check:02d}{bban}"


def make_person(source_id, last_name, first_name="", email="", phone=""):
    return Person.objects.create(
        source_id=source_id, last_name=last_name, first_name=first_name, email=email, phone=phone
    )


def make_premises(source_id, *, number=1, kind="M", street="ul. Kwiatowa 1", area="48.50"):
    return Premises.objects.create(
        source_id=source_id,
        account_number=f"K{number:05d}",
        kind=kind,
        street_address=street,
        unit_number=str(number),
        postal_code="55-200",
        city="Oława",
        area=Decimal(area),
        bank_account=nrb_for(number),
    )


def give_title(person, premises, *, valid_from=date(2020, 1, 1), valid_to=None, kind="O"):
    return Title.objects.create(
        person_id=person.source_id,
        premises_id=premises.source_id,
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def add_ledger(premises, source_id, posted_on, *, kind="NAL", debit="0", credit="0", **fields):
    return LedgerEntry.objects.create(
        source_id=source_id,
        premises_id=premises.source_id,
        posted_on=posted_on,
        kind=kind,
        debit=Decimal(debit),
        credit=Decimal(credit),
        **fields,
    )


def set_balance(premises, amount, as_of=date(2026, 11, 24)):
    return Balance.objects.create(
        premises_id=premises.source_id, amount=Decimal(amount), as_of=as_of
    )


def add_charge(
    premises, component, name, base, rate, amount, unit="m2", valid_from=date(2026, 1, 1)
):
    return Charge.objects.create(
        premises_id=premises.source_id,
        component=component,
        name=name,
        base=Decimal(base),
        unit=unit,
        rate=Decimal(rate),
        amount=Decimal(amount),
        valid_from=valid_from,
    )


def add_parameter(premises, code, name, value, unit="", valid_from=None):
    return Parameter.objects.create(
        premises_id=premises.source_id,
        code=code,
        name=name,
        value=value,
        unit=unit,
        valid_from=valid_from,
    )


def add_reading(premises, meter, read_on, value, unit="m3"):
    return MeterReading.objects.create(
        premises_id=premises.source_id,
        meter=meter,
        read_on=read_on,
        value=Decimal(value),
        unit=unit,
    )


def add_document(
    source_id,
    *,
    premises=None,
    kind="ZAW",
    title="Zawiadomienie",
    issued_on=None,
    content=b"%PDF-1.4\n%test\n",
):
    """A document with its PDF stored in the current cooperative's private storage."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from ebok.keys.documents import seal

    digest = hashlib.sha256(content).hexdigest()
    stored = default_storage.save(f"documents/{digest}.pdf", ContentFile(seal(content)))
    return Document.objects.create(
        source_id=source_id,
        premises_id=premises.source_id if premises else None,
        kind=kind,
        title=title,
        issued_on=issued_on or date(2026, 1, 15),
        file_name=f"{source_id}.pdf",
        sha256=digest,
        stored_path=stored,
    )


def mark_fresh(as_of=date(2026, 11, 24), number=1):
    from django.utils import timezone

    DataFreshness.objects.all().delete()
    return DataFreshness.objects.create(
        package_number=number, as_of=as_of, applied_at=timezone.now(), checksum="0" * 64
    )


def make_resident(person, *, login=None, password=RESIDENT_PASSWORD, ready=True, rules_version=1):
    """A resident account; ``ready`` = issued password already replaced and rules accepted."""
    from django.utils import timezone

    user = User.objects.create_user(
        login or f"res.{person.source_id.lower()}",
        password,
        kind=User.Kind.RESIDENT,
        person_source_id=person.source_id,
        display_name=person.full_name,
    )
    if ready:
        user.rules_accepted_version = rules_version
        user.rules_accepted_at = timezone.now()
    else:
        user.must_change_password = True
        user.password_issued_at = timezone.now()
    user.save()
    return user


def make_staff(login, role="operator", password=RESIDENT_PASSWORD):
    return User.objects.create_user(login, password, kind=User.Kind.STAFF, role=role)


def household():
    """Two neighbours: Kowalska holds M1 (with co-owner Kowalski) and garage G1;
    Nowak holds M2 and used to hold M3 (title ended)."""
    kowalska = make_person("O1", "Kowalska", "Anna", email="anna@example.pl")
    kowalski = make_person("O2", "Kowalski", "Jan")
    nowak = make_person("O3", "Nowak", "Piotr")
    m1 = make_premises("L1", number=1)
    g1 = make_premises("G1", number=101, kind="G", area="16.00")
    m2 = make_premises("L2", number=2)
    m3 = make_premises("L3", number=3)
    give_title(kowalska, m1)
    give_title(kowalski, m1)
    give_title(kowalska, g1)
    give_title(nowak, m2)
    give_title(nowak, m3, valid_to=date(2024, 6, 30))
    for premises, amount in ((m1, "155.20"), (g1, "0.00"), (m2, "-20.00"), (m3, "10.00")):
        set_balance(premises, amount)
    return {
        "kowalska": kowalska,
        "kowalski": kowalski,
        "nowak": nowak,
        "m1": m1,
        "g1": g1,
        "m2": m2,
        "m3": m3,
    }
