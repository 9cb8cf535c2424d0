"""Request rates per client address and per token, counted in the Redis cache.

The cache key function adds the cooperative's schema, so each cooperative's
clients are counted apart. Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``
and are read on each request (so they can be changed per process or test).
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _ConfiguredRateThrottle(SimpleRateThrottle):
    def __init__(self):
        # SimpleRateThrottle reads the rate once at import; read it per request instead.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class IPRateThrottle(_ConfiguredRateThrottle):
    """Every request, authenticated or not, per client address."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenRateThrottle(_ConfiguredRateThrottle):
    """Authenticated requests, per bearer token."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is None or getattr(token, "pk", None) is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class LoginRateThrottle(IPRateThrottle):
    """Attempts to obtain a token, per client address (on top of the lockout per login)."""

    scope = "login"
