"""Migration 0006 keys the ledger by ID_ZAPISU on a schema that already holds entries:
every entry stays, with its old id as its position, so a day's order is unchanged."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

from ebok import selectors
from ebok.models import Premises
from tests.support.data import add_ledger, make_premises

BEFORE = ("ebok", "0005_accounting_ids_compare_bytewise")
AFTER = ("ebok", "0006_ledger_keyed_by_source_id")


def _catalog() -> dict:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'ebok_ledger_entry'::regclass ORDER BY 1"
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'ebok_ledger_entry' "
            "AND schemaname = current_schema() ORDER BY 1"
        )
        indexes = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT pg_get_serial_sequence('ebok_ledger_entry', 'position')")
        sequence = cur.fetchone()[0]
    return {"constraints": constraints, "indexes": indexes, "sequence": sequence}


def _migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.mark.django_db
def test_keying_the_ledger_by_source_id_keeps_every_entry_and_its_order(odra):
    with schema_context(odra.schema_name):
        premises = make_premises("MIG-1")
        after_migration = _catalog()
        _migrate(BEFORE)
        try:
            with connection.cursor() as cur:
                # The old shape: a surrogate id, ID_ZAPISU unique beside it.
                cur.execute(
                    "INSERT INTO ebok_ledger_entry (source_id, premises_id, posted_on, kind, "
                    "component, description, debit, credit) VALUES "
                    "('Z-9', %s, '2026-01-05', 'NAL', '', '', 10, 0), "
                    "('Z-1', %s, '2026-01-05', 'WPL', '', '', 0, 4), "
                    "('Z-5', %s, '2026-01-02', 'NAL', '', '', 3, 0) RETURNING id",
                    [premises.source_id] * 3,
                )
                ids = [row[0] for row in cur.fetchall()]
        finally:
            _migrate(AFTER)
        assert _catalog() == after_migration
        assert ("ebok_ledger_entry_pkey", "p", "PRIMARY KEY (source_id)") in after_migration[
            "constraints"
        ]
        assert after_migration["sequence"].endswith("ebok_ledger_entry_position_seq")
        entries = list(selectors.ledger(Premises.objects.get(pk=premises.pk)))
        # By day, then arrival: Z-9 came before Z-1 on 5 January, whatever their ids say.
        assert [e.source_id for e in entries] == ["Z-5", "Z-9", "Z-1"]
        assert sorted(e.position for e in entries) == sorted(ids)
        assert [e.running_balance for e in entries] == [3, 13, 9]
        # The identity continues after the migrated rows.
        later = add_ledger(premises, "Z-10", "2026-01-05", credit="1")
        assert later.position > max(ids)
        assert [e.source_id for e in selectors.ledger(premises)][-1] == "Z-10"
