"""Fixtures of the residents' portal tests: ODRA's neighbours (see
``tests.support.data.household``) with accounts, ledgers and documents."""

from datetime import date

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.support import data

BACKEND = "ebok.accounts.backends.AccountBackend"


def logged_in(cooperative, user, host=None) -> Client:
    """A client with a session of ``user`` on the cooperative's host."""
    client = Client(HTTP_HOST=host or f"{cooperative.schema_name}.localhost")
    with schema_context(cooperative.schema_name):
        client.force_login(user, backend=BACKEND)
    return client


def fill_premises(premises, prefix: str, *, months: int = 3, year: int = 2026) -> None:
    """Charges and payments over ``months`` months, a charge breakdown, parameters
    and readings; descriptions carry ``prefix`` so a leak shows up in a page."""
    data.add_ledger(
        premises,
        f"{prefix}-BO",
        date(year, 1, 1),
        kind="BO",
        debit="10.00",
        description=f"{prefix} opening",
    )
    for month in range(1, months + 1):
        data.add_ledger(
            premises,
            f"{prefix}-N{month}",
            date(year, month, 1),
            kind="NAL",
            debit="300.00",
            component="EKS",
            description=f"{prefix} charge {month}",
            due_on=date(year, month, 15),
        )
        data.add_ledger(
            premises,
            f"{prefix}-W{month}",
            date(year, month, 10),
            kind="WPL",
            credit="250.00",
            description=f"{prefix} payment {month}",
        )
    data.add_charge(premises, "EKS", "Eksploatacja", "48.50", "4.2000", "203.70")
    data.add_charge(premises, "FR", "Fundusz remontowy", "48.50", "2.0000", "97.00")
    data.add_parameter(premises, "OSOBY", "Liczba osób", "2", "os.")
    data.add_reading(premises, "ZW-1", date(2026, 1, 1), "100.000")
    data.add_reading(premises, "ZW-1", date(2026, 7, 1), "112.500")


@pytest.fixture
def fast_hashing(settings):
    """Argon2 costs ~0.1–0.5 s a hash: too slow for accounts made in every test.
    Tests of logging in with a password still run the real hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def home(odra, in_schema, fast_hashing):
    """household() in ODRA with ready accounts, ledgers and documents."""
    with in_schema(odra):
        people = data.household()
        data.mark_fresh()
        for name in ("kowalska", "kowalski", "nowak"):
            people[f"{name}_user"] = data.make_resident(people[name])
        for key in ("m1", "g1", "m2", "m3"):
            fill_premises(people[key], key.upper())
        people["doc_m1"] = data.add_document(
            "D-M1", premises=people["m1"], title="Zawiadomienie M1"
        )
        people["doc_m2"] = data.add_document(
            "D-M2", premises=people["m2"], title="Zawiadomienie M2"
        )
        people["doc_m3"] = data.add_document(
            "D-M3", premises=people["m3"], title="Rozliczenie M3", kind="ROZ_WODA"
        )
        people["doc_all"] = data.add_document(
            "D-ALL",
            title="Uchwała walnego zgromadzenia",
            kind="UCH",
            issued_on=date(2026, 6, 1),
            content=b"%PDF-1.4\n%wspolny\n",
        )
    return people


@pytest.fixture
def as_user(odra):
    def client_for(user):
        return logged_in(odra, user)

    return client_for
