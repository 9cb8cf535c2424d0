"""Project-wide request hardening: client address, session lifetimes, headers."""

import ipaddress
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect

from ebok.accounts import denials


class RefuseNulBytesMiddleware:
    """A NUL byte in the path is never a valid address (PostgreSQL would refuse it
    as a value later, as a 500): 400 before any view sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            return HttpResponseBadRequest("Bad request.", content_type="text/plain")
        return self.get_response(request)


def _network_list(values):
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


class TrustedProxyMiddleware:
    """Take the client address from X-Forwarded-For only when the request came
    through a configured trusted proxy; anyone else's header is ignored."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = _network_list(settings.TRUSTED_PROXIES)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def __call__(self, request):
        remote = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.pop("HTTP_X_FORWARDED_FOR", "")
        if forwarded and self._is_trusted(remote):
            # Walk from the nearest hop back; the first untrusted address is the client.
            for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
                if not self._is_trusted(hop):
                    try:
                        ipaddress.ip_address(hop)
                    except ValueError:
                        break
                    request.META["REMOTE_ADDR"] = hop
                    break
        return self.get_response(request)


class SessionLifetimeMiddleware:
    """Idle limits per kind of account (residents 30 min, staff 15 min) and an
    absolute limit since login (12 h); past either, the session ends."""

    STARTED = "_started_at"
    SEEN = "_seen_at"
    # Refresh the idle clock at most this often, to spare a session write per request.
    TOUCH_EVERY = 30

    def __init__(self, get_response):
        self.get_response = get_response

    def _idle_limit(self, user) -> int:
        if getattr(user, "kind", "") == "resident":
            return settings.RESIDENT_IDLE_SECONDS
        return settings.STAFF_IDLE_SECONDS

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            session = request.session
            started = session.setdefault(self.STARTED, now)
            seen = session.get(self.SEEN, now)
            if now - seen > self._idle_limit(user) or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
                return redirect(request.path if request.method == "GET" else "/")
            if now - seen >= self.TOUCH_EVERY or self.SEEN not in session:
                session[self.SEEN] = now
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django has no setting for. Pages are personal: never cached. An API
    answer opened in a browser is a download, never rendered (ASVS 14.4.2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.setdefault("Cache-Control", "no-store")
        is_json = response.get("Content-Type", "").startswith("application/json")
        if is_json and request.path_info.startswith("/api/"):
            response.setdefault("Content-Disposition", 'attachment; filename="api.json"')
        return response


class DeniedRequestsMiddleware:
    """Refuses the HTTP methods no page of the platform takes (405) and logs every
    failed access-control decision (``ebok.accounts.denials``): refusals the views
    raise, and 403/405 answers nobody logged on the way (CSRF, a view's method
    check). Each API view answers (and its handler logs) 405 itself, with its own
    methods in ``Allow`` and in the API's error shape."""

    METHODS = frozenset({"GET", "HEAD", "POST"})
    LOGGED_STATUSES = {403: denials.FORBIDDEN, 405: denials.METHOD}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path_info.startswith("/api/")
        if request.method not in self.METHODS and not api:
            response = HttpResponseNotAllowed(sorted(self.METHODS))
        else:
            response = self.get_response(request)
        kind = self.LOGGED_STATUSES.get(response.status_code)
        if kind is not None:
            denials.record(request, kind)  # once per request: a noticed refusal stays as it was
        return response

    def process_exception(self, request, exception):
        denials.record_exception(request, exception)
        return None
