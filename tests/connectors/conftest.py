"""Connector tests commit for real: the apply runs on its own database
connection, and the live tests start workers that must see the data. Each test
gets the cooperative CONN reset to empty."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from connectors.models import SyncRun
from tenants.models import ConnectorSettings, Cooperative
from tenants.services import onboard_cooperative

CODE = "CONN"
TABLES = [
    "ebok_premises",
    "ebok_person",
    "ebok_title",
    "ebok_balance",
    "ebok_ledger_entry",
    "ebok_charge",
    "ebok_parameter",
    "ebok_meter_reading",
    "ebok_document",
    "ebok_data_freshness",
]


@pytest.fixture
def db(django_db_setup, django_db_blocker):
    """Here ``db`` means "the test database exists", without pytest-django's
    per-test transaction: the tests of this folder commit for real (the apply
    runs on its own connection; workers must see the data). pytest-django sets
    the test database up when a collected test's fixtures include ``db``."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(autouse=True)
def _english_messages():
    """The rules' tests match the English msgids; the Polish catalog has its own test."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="session")
def connector_cooperative(django_db_setup, django_db_blocker) -> Cooperative:
    with django_db_blocker.unblock():
        cooperative = Cooperative.objects.filter(code=CODE).first()
        if cooperative is None:
            cooperative = onboard_cooperative(code=CODE, name="Spółdzielnia Mieszkaniowa „Złącze”")
        connection.set_schema_to_public()
    return cooperative


def reset(cooperative: Cooperative) -> None:
    with schema_context(cooperative.schema_name), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(TABLES)}, connectors_sync_run")
    ConnectorSettings.objects.filter(cooperative=cooperative).delete()
    shutil.rmtree(Path(settings.PRIVATE_STORAGE_ROOT) / cooperative.schema_name, ignore_errors=True)
    shutil.rmtree(Path(settings.CONNECTOR_ROOT) / cooperative.code, ignore_errors=True)


@pytest.fixture
def coop(db, connector_cooperative, django_db_blocker):
    """The committed cooperative CONN, emptied; the ORM commits in this test."""
    with django_db_blocker.unblock():
        reset(connector_cooperative)
        yield connector_cooperative
        connection.set_schema_to_public()


@pytest.fixture
def fingerprint(coop):
    """``fingerprint()``: every accounting table's row count and content hash."""

    def take() -> dict:
        result = {}
        with schema_context(coop.schema_name), connection.cursor() as cur:
            for table in TABLES:
                cur.execute(
                    "SELECT count(*), "
                    "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f"FROM {table} t"
                )
                result[table] = cur.fetchone()
        return result

    return take


@pytest.fixture
def runs(coop):
    def get():
        with schema_context(coop.schema_name):
            return list(SyncRun.objects.order_by("started_at", "pk"))

    return get
