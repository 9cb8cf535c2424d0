"""Shared bits of the connectors' management commands."""

from django.core.management.base import CommandError
from django.db import connection

from tenants.models import Cooperative


def cooperative_by_code(code: str) -> Cooperative:
    try:
        cooperative = Cooperative.objects.get(code__iexact=code.strip())
    except Cooperative.DoesNotExist:
        raise CommandError(f"No cooperative with code {code!r}.") from None
    connection.set_tenant(cooperative)
    return cooperative
