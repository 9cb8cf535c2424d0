"""``migrate_schemas`` that also keeps the template schema of new cooperatives current."""

from django.conf import settings
from django_tenants.management.commands.migrate_schemas import (
    MigrateSchemasCommand as BaseMigrateSchemas,
)
from django_tenants.utils import schema_exists


class Command(BaseMigrateSchemas):
    def handle(self, *args, **options):
        super().handle(*args, **options)
        template = settings.TENANT_BASE_SCHEMA
        migrating_all_tenants = not options.get("schema_name") and not options.get("shared")
        if migrating_all_tenants and schema_exists(template):
            super().handle(*args, **{**options, "schema_name": template, "tenant": True})
