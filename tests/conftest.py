"""Shared fixtures: a real PostgreSQL test database with two cooperatives,
ODRA and WARTA, each in its own schema, and clients bound to their hosts."""

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Cooperative
from tenants.services import onboard_cooperative

COOPERATIVES = {
    "ODRA": {
        "name": "Spółdzielnia Mieszkaniowa „ODRA” w Oławie",
        "contact_room": "pok. nr 3",
        "contact_address": "ul. 1 Maja 22, 55-200 Oława",
        "contact_phone": "71 303 93 58",
        "contact_email": "czynsze@odra.example",
        "contact_hours": "pon.–pt. 8:00–15:00",
        "rules_text": "1. Spółdzielnia nie posiada informacji o indywidualnym haśle.",
    },
    "WARTA": {
        "name": "Spółdzielnia Mieszkaniowa „Warta” w Poznaniu",
        "contact_phone": "61 000 00 00",
        "rules_text": "Regulamin e-BOK Warty.",
    },
}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        for code, details in COOPERATIVES.items():
            onboard_cooperative(code=code, **details)
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _back_to_public_schema():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def odra(db) -> Cooperative:
    return Cooperative.objects.get(code="ODRA")


@pytest.fixture
def warta(db) -> Cooperative:
    return Cooperative.objects.get(code="WARTA")


def host_client(host: str) -> Client:
    return Client(HTTP_HOST=host)


@pytest.fixture
def odra_client(odra) -> Client:
    return host_client("odra.localhost")


@pytest.fixture
def warta_client(warta) -> Client:
    return host_client("warta.localhost")


@pytest.fixture
def apex_client(db) -> Client:
    return host_client("localhost")


@pytest.fixture
def in_schema():
    """``with in_schema(cooperative): ...`` runs ORM calls in that cooperative's schema."""

    def enter(cooperative):
        return schema_context(cooperative.schema_name)

    return enter
