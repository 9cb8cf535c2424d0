"""The cooperative's audit log refuses UPDATE, DELETE and TRUNCATE but through
its documented purposes (ebok.accounts.audit_guard)."""

from django.db import migrations

from ebok.accounts import audit_guard

TABLE = "ebok_audit_event"


class Migration(migrations.Migration):
    dependencies = [
        ("ebok", "0003_ledger_lean_indexes"),
    ]

    operations = [
        migrations.RunSQL(audit_guard.CREATE_FUNCTION, migrations.RunSQL.noop),
        migrations.RunSQL(audit_guard.protect(TABLE), audit_guard.unprotect(TABLE)),
    ]
