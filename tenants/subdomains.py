"""Host → cooperative, in one place.

``odra.<BASE_DOMAIN>`` belongs to the cooperative with code ODRA; the apex host
``<BASE_DOMAIN>`` is the operators' console (public schema). Any other host
must be registered as a Domain of a cooperative.
"""

from django.conf import settings
from django.http import HttpRequest


def host_of(request: HttpRequest) -> str:
    return request.get_host().split(":", 1)[0].lower().rstrip(".")


def is_apex(host: str) -> bool:
    return host == settings.BASE_DOMAIN


def domain_for_code(code: str) -> str:
    return f"{code.lower()}.{settings.BASE_DOMAIN}"


def portal_url(domain: str) -> str:
    port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT else ""
    return f"{settings.PORTAL_SCHEME}://{domain}{port}/"
