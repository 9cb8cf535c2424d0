"""Device cookies: the account holder's browser keeps logging in while the
account is under a distributed guessing attack (OWASP "Slow Down Online
Guessing Attacks with Device Cookies", docs/decisions/0730-device-cookies.md).

Failed logins are counted per account across all addresses. A client without a
valid device cookie for the login it tries is *untrusted*: once the account had
more than ``UNTRUSTED_LOGIN_FAILURE_LIMIT`` untrusted failures in the window,
untrusted clients are refused before the password is checked (one answer for a
right or a wrong password and for unknown logins alike). A browser holding a
device cookie of that login, signed for this cooperative, still gets in; after
``DEVICE_COOKIE_FAILURE_LIMIT`` failures of its own its cookie is not trusted
either until the window passes. django-axes (per login and address) runs first,
unchanged.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext
from django_tenants.utils import get_public_schema_name

from ebok.accounts import audit, notifications
from ebok.accounts.active_sessions import device_name
from ebok.accounts.models import LoginFailure, User
from ebok.models import LoginRecord

# Separates the advisory locks of this module from any other user of pg_advisory_xact_lock.
ADVISORY_LOCK_CLASS = 730


@dataclass(frozen=True)
class Attempt:
    """A login attempt that got past the refusal: what its failure counts against."""

    login: str
    digest: str
    device: str  # the nonce of a trusted device cookie of this login, else ""


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds until untrusted clients may try this account again

    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        return ngettext(
            "Too many failed login attempts to this account from unrecognised devices. "
            "Try again in %(minutes)d minute, or log in from a browser you logged in "
            "with before.",
            "Too many failed login attempts to this account from unrecognised devices. "
            "Try again in %(minutes)d minutes, or log in from a browser you logged in "
            "with before.",
            minutes,
        ) % {"minutes": minutes}


def _window() -> timedelta:
    return timedelta(seconds=settings.UNTRUSTED_LOGIN_WINDOW_SECONDS)


def _failures(**filters) -> int:
    return LoginFailure.objects.filter(at__gte=timezone.now() - _window(), **filters).count()


def login_digest(login: str) -> str:
    # Keyed, so the table of failures does not reveal what was typed as a login.
    return salted_hmac("ebok.accounts.device_cookies.login", login, algorithm="sha256").hexdigest()


def _salt() -> str:
    # Cookies are host-only already; the schema in the signature makes a copy carried
    # to another cooperative's host worthless as well.
    return f"ebok.accounts.device_cookie:{connection.schema_name}"


def issue(response, login: str) -> None:
    """Give this browser a fresh device cookie of ``login`` (a new nonce each login)."""
    value = signing.dumps({"login": login, "nonce": secrets.token_hex(16)}, salt=_salt())
    response.set_cookie(
        settings.DEVICE_COOKIE_NAME,
        value,
        max_age=settings.DEVICE_COOKIE_AGE_DAYS * 86400,
        secure=settings.DEVICE_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def trusted_device(request, login: str) -> str:
    """The nonce of the request's device cookie when it is trusted for ``login``, else ""."""
    raw = request.COOKIES.get(settings.DEVICE_COOKIE_NAME)
    if not raw:
        return ""
    try:
        payload = signing.loads(
            raw, salt=_salt(), max_age=timedelta(days=settings.DEVICE_COOKIE_AGE_DAYS)
        )
    except signing.BadSignature:
        return ""
    if not isinstance(payload, dict) or payload.get("login") != login:
        return ""
    nonce = str(payload.get("nonce") or "")
    if not nonce or _failures(device=nonce) >= settings.DEVICE_COOKIE_FAILURE_LIMIT:
        return ""
    return nonce


def refusal_for(digest: str) -> Refusal | None:
    """A refusal while the account has more untrusted failures in the window than allowed."""
    limit = settings.UNTRUSTED_LOGIN_FAILURE_LIMIT
    now = timezone.now()
    newest = list(
        LoginFailure.objects.filter(login_digest=digest, device="", at__gte=now - _window())
        .order_by("-at")
        .values_list("at", flat=True)[: limit + 1]
    )
    if len(newest) <= limit:
        return None
    # Untrusted clients may try again once the failures in the window are down to the
    # limit: when the (limit + 1)-th newest leaves the window.
    reopens = newest[limit] + _window()
    return Refusal(retry_after=max(1, math.ceil((reopens - now).total_seconds())))


@transaction.atomic
def record_failure(attempt: Attempt, request=None) -> None:
    """Count a failed login; audit the moment the account locks for untrusted clients
    or a device cookie loses its trust."""
    with connection.cursor() as cursor:
        # One failure of an account at a time, so each crossing of a limit is seen once.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_CLASS, attempt.digest]
        )
    LoginFailure.objects.filter(at__lt=timezone.now() - _window()).delete()
    LoginFailure.objects.create(login_digest=attempt.digest, device=attempt.device)
    window_minutes = settings.UNTRUSTED_LOGIN_WINDOW_SECONDS // 60
    if attempt.device:
        limit = settings.DEVICE_COOKIE_FAILURE_LIMIT
        if _failures(device=attempt.device) == limit:
            _audit("login.device_distrusted", attempt, request, failures=limit)
    else:
        limit = settings.UNTRUSTED_LOGIN_FAILURE_LIMIT
        if _failures(login_digest=attempt.digest, device="") == limit + 1:
            _audit(
                "login.untrusted_locked",
                attempt,
                request,
                failures=limit + 1,
                window_minutes=window_minutes,
            )


def _audit(action: str, attempt: Attempt, request, **details) -> None:
    # The typed login is kept only when it is an account's: it may be a mistyped password.
    login = attempt.login if User.objects.filter(login=attempt.login).exists() else ""
    if not login:
        details["unknown_login"] = True
    if connection.schema_name == get_public_schema_name():
        from tenants import audit as operator_audit

        operator_audit.record(action, actor=login, request=request, **details)
    else:
        audit.record(action, target=login, request=request, **details)


def take_refusal(request) -> Refusal | None:
    """The refusal of this request's login attempt, once: whoever answers it takes it."""
    return request.__dict__.pop("login_refusal", None)


def refusal_response(refusal: Refusal) -> HttpResponse:
    response = HttpResponse(refusal.message(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(refusal.retry_after)
    return response


class DeviceCookieBackend:
    """Refuses untrusted clients of an account under attack before any password is
    checked. Listed after axes' backend and before the one that checks passwords;
    it never authenticates anyone itself."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if request is None or login is None:
            return None
        login = str(login)
        attempt = Attempt(login, login_digest(login), trusted_device(request, login))
        request.login_attempt = attempt
        if not attempt.device and (refusal := refusal_for(attempt.digest)):
            request.login_refusal = refusal
            raise PermissionDenied
        return None


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    attempt = getattr(request, "login_attempt", None)
    # A refused attempt checked no password, and axes' refusals never reach the backend.
    if attempt is None or getattr(request, "login_refusal", None) is not None:
        return
    record_failure(attempt, request)


@receiver(user_logged_in)
def _remember_device(sender, request=None, user=None, **kwargs):
    if request is not None and user is not None:
        request.device_cookie_login = user.login


def notice_new_device(user, request) -> None:
    """Tell the holder about a sign-in from a browser without their device cookie, except
    the very first (called before it is recorded). API clients keep no cookies: skipped,
    as are logins made without a request to a page (tests, commands)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace == "api" or trusted_device(request, user.login):
        return
    if not LoginRecord.objects.filter(user=user).exists():
        return
    agent = request.META.get("HTTP_USER_AGENT", "")
    notifications.notify_new_device_login(
        user, device=device_name(agent), address=audit.client_ip(request) or ""
    )


class DeviceCookieMiddleware:
    """Answers a refused login and hands a device cookie to a browser that logged in.
    API clients keep no cookies: the token endpoint answers its refusals itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        refusal = take_refusal(request)
        if refusal is not None:
            return refusal_response(refusal)
        login = getattr(request, "device_cookie_login", None)
        if login and getattr(request.resolver_match, "namespace", "") != "api":
            issue(response, login)
        return response
