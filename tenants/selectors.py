from django.conf import settings
from django_tenants.utils import get_public_schema_name

from tenants.models import Cooperative, Domain


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
