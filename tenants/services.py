"""Writes on the public schema: onboarding, suspension."""

import re

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from tenants.middleware import forget_cached_hosts
from tenants.models import Cooperative, Domain
from tenants.subdomains import domain_for_code

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,19}$")


class OnboardingError(Exception):
    pass


def ensure_template_schema() -> None:
    """Create and migrate the schema new cooperatives are cloned from, if missing."""
    template = settings.TENANT_BASE_SCHEMA
    if schema_exists(template):
        return
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command("migrate_schemas", schema_name=template, interactive=False, verbosity=0)


@transaction.atomic
def onboard_cooperative(
    *, code: str, name: str, domain: str | None = None, **details
) -> Cooperative:
    """Create the cooperative, its schema (a clone of the template) and its domain.

    All or nothing: a duplicate code or domain leaves no schema, row or domain behind.
    """
    code = code.strip().upper()
    if not CODE_PATTERN.match(code):
        raise OnboardingError(
            f"Invalid code {code!r}: 2–20 letters and digits, starting with a letter."
        )
    if not name.strip():
        raise OnboardingError("The cooperative's name is required.")
    domain = (domain or domain_for_code(code)).strip().lower()
    if Cooperative.objects.filter(code__iexact=code).exists() or schema_exists(code.lower()):
        raise OnboardingError(f"A cooperative with code {code} already exists.")
    if Domain.objects.filter(domain=domain).exists():
        raise OnboardingError(f"The domain {domain} is already in use.")
    ensure_template_schema()
    cooperative = Cooperative(schema_name=code.lower(), code=code, name=name.strip(), **details)
    cooperative.save(verbosity=0)
    Domain.objects.create(domain=domain, tenant=cooperative, is_primary=True)
    connection.set_schema_to_public()
    return cooperative


def suspend_cooperative(cooperative: Cooperative, *, reason: str = "") -> None:
    cooperative.is_active = False
    cooperative.suspended_reason = reason
    cooperative.save(update_fields=["is_active", "suspended_reason"])
    forget_cached_hosts()


def resume_cooperative(cooperative: Cooperative) -> None:
    cooperative.is_active = True
    cooperative.suspended_reason = ""
    cooperative.save(update_fields=["is_active", "suspended_reason"])
    forget_cached_hosts()
