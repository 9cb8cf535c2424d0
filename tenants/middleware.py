import time

from django.conf import settings
from django.db import connection
from django.http import Http404
from django.template.response import TemplateResponse
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from tenants import selectors
from tenants.subdomains import host_of, is_apex

# host -> (cooperative, monotonic deadline). Per process; see TENANT_CACHE_SECONDS.
_host_cache: dict[str, tuple[object, float]] = {}


def forget_cached_hosts() -> None:
    _host_cache.clear()


def cooperative_for_host(host: str):
    """The cooperative serving ``host``, cached so a warm request costs no query."""
    cached = _host_cache.get(host)
    now = time.monotonic()
    if cached and cached[1] > now:
        return cached[0]
    cooperative = selectors.public_cooperative() if is_apex(host) else selectors.by_host(host)
    if cooperative is not None and settings.TENANT_CACHE_SECONDS > 0:
        _host_cache[host] = (cooperative, now + settings.TENANT_CACHE_SECONDS)
    return cooperative


class CooperativeMiddleware(TenantMainMiddleware):
    """Routes a request to its cooperative's schema, or to the public one on the apex host."""

    def process_request(self, request):
        connection.set_schema_to_public()
        cooperative = cooperative_for_host(host_of(request))
        if cooperative is None:
            raise Http404("No cooperative is served at this address.")
        if not cooperative.is_active:
            response = TemplateResponse(
                request,
                "tenants/unavailable.html",
                {"cooperative_name": cooperative.name},
                status=503,
            )
            response["Retry-After"] = "3600"
            return response.render()
        request.tenant = cooperative
        connection.set_tenant(cooperative)
        if cooperative.schema_name == get_public_schema_name():
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        return None
