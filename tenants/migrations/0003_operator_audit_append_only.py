"""The operators' audit log refuses UPDATE, DELETE and TRUNCATE but through its
documented purposes (ebok.accounts.audit_guard)."""

from django.db import migrations

from ebok.accounts import audit_guard

TABLE = "tenants_operatorauditevent"


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_operator_audit_event"),
    ]

    operations = [
        migrations.RunSQL(audit_guard.CREATE_FUNCTION, migrations.RunSQL.noop),
        migrations.RunSQL(audit_guard.protect(TABLE), audit_guard.unprotect(TABLE)),
    ]
