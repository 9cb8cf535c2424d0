"""Step-up authentication: sensitive actions need a recent authentication.

A session remembers when its owner last proved who they are (the password
login, or the re-authentication page: password, plus a code where the account
has an authenticator). Past ``RECENT_AUTHENTICATION_SECONDS`` a sensitive view
sends the session to its area's re-authentication page and back. See
docs/decisions/0760-step-up-and-session-list.md.
"""

import time
from functools import wraps
from urllib.parse import urlencode, urlsplit

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from ebok.accounts import audit, two_factor
from ebok.accounts.two_factor import _record as record_own_event

AUTHENTICATED_AT = "_authenticated_at"
READS = ("GET", "HEAD")


def mark_login(request) -> None:
    """At a login into a session (not an API token's): the clock starts now."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        session[AUTHENTICATED_AT] = time.time()


def authenticated_recently(request) -> bool:
    at = request.session.get(AUTHENTICATED_AT)
    return (
        isinstance(at, int | float) and time.time() - at <= settings.RECENT_AUTHENTICATION_SECONDS
    )


def _return_to(request) -> str:
    """Where to come back after re-authenticating: the page itself for a read;
    for a form sent, the page the form was on (never replaying the POST)."""
    if request.method in READS:
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return ""  # the re-authentication page falls back to the area's home


def recent_authentication_required(view=None, *, reads_allowed: bool = False):
    """Send a logged-in session without a recent authentication to its area's
    re-authentication page; the view does nothing meanwhile.

    ``reads_allowed``: GET and HEAD pass (a page that lists things and also
    takes a sensitive form). Access checks stay the view's own: anonymous
    requests pass through to them.
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if (
                request.user.is_authenticated
                and not (reads_allowed and request.method in READS)
                and not authenticated_recently(request)
            ):
                namespace = request.resolver_match.namespace
                target = reverse(f"{namespace}:reauth")
                back = _return_to(request)
                return redirect(f"{target}?{urlencode({'next': back})}" if back else target)
            return view(request, *args, **kwargs)

        wrapped.step_up = True
        return wrapped

    return decorate(view) if view is not None else decorate


def needs_code(user) -> bool:
    return two_factor.is_mandatory(user) or two_factor.has_authenticator(user)


def reauthenticate(request, *, password: str, code: str = "") -> bool:
    """Prove again who is behind this session: the password through the login
    backends (so django-axes counts failures and locks out as at login), plus a
    code where the account has an authenticator. Audited either way."""
    user = request.user
    # Read by the login-failure receiver: this failure is a re-authentication's.
    request.reauthenticating = True
    checked = authenticate(request, username=user.login, password=password)
    if checked is None or checked.pk != user.pk:
        return False  # audited as reauth.failed by the receiver; counted by axes
    if needs_code(user) and two_factor.check_code(user, code) is None:
        record_own_event("reauth.failed", user, request, factor="code")
        return False
    reset_lockout(ip=audit.client_ip(request), username=user.login)
    request.session[AUTHENTICATED_AT] = time.time()
    record_own_event("reauth.succeeded", user, request)
    return True
