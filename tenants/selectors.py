from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants.models import ConnectorSettings, Cooperative, Domain


def public_cooperative() -> Cooperative:
    """The public tenant of the apex host, made on first need."""
    cooperative, _ = Cooperative.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"code": "", "name": "e-BOK"},
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": cooperative, "is_primary": True}
    )
    return cooperative


def by_host(host: str) -> Cooperative | None:
    domain = Domain.objects.select_related("tenant").filter(domain=host).first()
    if domain is None or domain.tenant.schema_name == get_public_schema_name():
        return None
    return domain.tenant


def by_code(code: str) -> Cooperative:
    return Cooperative.objects.exclude(schema_name=get_public_schema_name()).get(code__iexact=code)


def cooperatives():
    return Cooperative.objects.exclude(schema_name=get_public_schema_name()).prefetch_related(
        "domains"
    )


STALE_AFTER_DAYS = 3


@dataclass(frozen=True)
class SyncHealth:
    """What the operators' console shows of a cooperative: never residents' data."""

    cooperative: Cooperative
    connector: ConnectorSettings | None
    data_age_days: int | None
    status: str  # suspended, unconfigured, failing, stale, ok


def _status(cooperative, row, age) -> str:
    if not cooperative.is_active:
        return "suspended"
    if row is None:
        return "unconfigured"
    if row.last_failure_at and (
        not row.last_success_at or row.last_failure_at > row.last_success_at
    ):
        return "failing"
    if age is None or age > STALE_AFTER_DAYS:
        return "stale"
    return "ok"


def sync_health() -> list[SyncHealth]:
    """Every cooperative with its connector's health and domains, in two queries."""
    today = timezone.localdate()
    rows = []
    for cooperative in cooperatives().select_related("connector_settings"):
        row = getattr(cooperative, "connector_settings", None)
        age = (today - row.data_as_of).days if row and row.data_as_of else None
        rows.append(SyncHealth(cooperative, row, age, _status(cooperative, row, age)))
    return rows
