"""The ledger is keyed by ID_ZAPISU; its surrogate id becomes ``position``.

Before, the ledger had three indexes: the surrogate key, the unique ID_ZAPISU and
(premises, posted_on, id). The surrogate key served nothing the other two do not:
every lookup is by ID_ZAPISU or by premises. Keyed by ID_ZAPISU, a full import builds
two indexes instead of three and a delta maintains two (decision 0815). The column
keeps its values and its identity (renamed): it still orders the entries of one day
in the order they arrived.
"""

from django.db import migrations, models

FORWARD = """
ALTER TABLE ebok_ledger_entry DROP CONSTRAINT ebok_ledger_entry_pkey;
ALTER TABLE ebok_ledger_entry RENAME COLUMN id TO position;
ALTER SEQUENCE ebok_ledger_entry_id_seq RENAME TO ebok_ledger_entry_position_seq;
ALTER TABLE ebok_ledger_entry DROP CONSTRAINT ledger_source_id_unique;
ALTER TABLE ebok_ledger_entry ADD CONSTRAINT ebok_ledger_entry_pkey PRIMARY KEY (source_id);
"""

BACKWARD = """
ALTER TABLE ebok_ledger_entry DROP CONSTRAINT ebok_ledger_entry_pkey;
ALTER TABLE ebok_ledger_entry ADD CONSTRAINT ledger_source_id_unique UNIQUE (source_id);
ALTER SEQUENCE ebok_ledger_entry_position_seq RENAME TO ebok_ledger_entry_id_seq;
ALTER TABLE ebok_ledger_entry RENAME COLUMN position TO id;
ALTER TABLE ebok_ledger_entry ADD CONSTRAINT ebok_ledger_entry_pkey PRIMARY KEY (id);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ebok", "0005_accounting_ids_compare_bytewise"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The index (premises_id, posted_on, id) follows the renamed column.
            database_operations=[migrations.RunSQL(FORWARD, reverse_sql=BACKWARD)],
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="ledgerentry",
                    name="ledger_source_id_unique",
                ),
                migrations.RemoveIndex(
                    model_name="ledgerentry",
                    name="ledger_premises_posted",
                ),
                migrations.RemoveField(
                    model_name="ledgerentry",
                    name="id",
                ),
                migrations.AddField(
                    model_name="ledgerentry",
                    name="position",
                    field=models.BigIntegerField(
                        db_default=models.Func(
                            models.Value("ebok_ledger_entry_position_seq"), function="nextval"
                        ),
                        editable=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="source_id",
                    field=models.CharField(
                        db_collation="C", max_length=40, primary_key=True, serialize=False
                    ),
                ),
                migrations.AddIndex(
                    model_name="ledgerentry",
                    index=models.Index(
                        fields=["premises", "posted_on", "position"],
                        name="ledger_premises_posted",
                    ),
                ),
            ],
        ),
    ]
