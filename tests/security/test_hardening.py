"""Client address behind the proxy, session lifetimes, security headers."""

import time

import pytest
from django.test import RequestFactory

from ebok_platform.middleware import SessionLifetimeMiddleware, TrustedProxyMiddleware
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident, make_staff


def _client_address(meta):
    seen = {}

    def view(request):
        seen["ip"] = request.META["REMOTE_ADDR"]
        return None

    request = RequestFactory().get("/", **meta)
    TrustedProxyMiddleware(view)(request)
    return seen["ip"]


def test_forwarded_address_is_taken_only_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    through_proxy = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert _client_address(through_proxy) == "203.0.113.7"
    spoofed = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert _client_address(spoofed) == "198.51.100.9"


def test_client_cannot_prepend_a_fake_hop(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.7"}
    assert _client_address(meta) == "203.0.113.7"


def test_garbage_forwarded_header_keeps_the_proxy_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "not-an-ip\x00"}
    assert _client_address(meta) == "10.0.0.5"


def _logged_in(client, user):
    response = client.post("/login/", {"username": user.login, "password": RESIDENT_PASSWORD})
    assert response.status_code == 302
    return client


def _age_session(client, *, idle=0, since_login=0):
    session = client.session
    session[SessionLifetimeMiddleware.SEEN] = time.time() - idle
    session[SessionLifetimeMiddleware.STARTED] = time.time() - since_login
    session.save()


@pytest.fixture
def resident(odra, in_schema):
    with in_schema(odra):
        return make_resident(make_person("S1", "Idle", "Ida"))


def test_resident_session_survives_29_minutes_idle(odra_client, resident):
    _logged_in(odra_client, resident)
    _age_session(odra_client, idle=29 * 60)
    assert odra_client.get("/").status_code == 200


def test_resident_session_ends_after_30_minutes_idle(odra_client, resident):
    _logged_in(odra_client, resident)
    _age_session(odra_client, idle=31 * 60)
    response = odra_client.get("/")
    assert response.status_code == 302
    assert odra_client.get("/").status_code == 302  # still logged out


def test_session_ends_12_hours_after_login_however_active(odra_client, resident):
    _logged_in(odra_client, resident)
    _age_session(odra_client, idle=10, since_login=12 * 3600 + 60)
    assert odra_client.get("/").status_code == 302


def test_staff_idle_limit_is_15_minutes(odra, in_schema, rf):
    with in_schema(odra):
        staff = make_staff("kasia.staff")
    middleware = SessionLifetimeMiddleware(lambda request: "served")
    from django.contrib.sessions.backends.cache import SessionStore

    request = rf.get("/")
    request.user = staff
    request.session = SessionStore()
    request.session[SessionLifetimeMiddleware.SEEN] = time.time() - 16 * 60
    request.session[SessionLifetimeMiddleware.STARTED] = time.time() - 16 * 60
    assert middleware(request) != "served"


def test_pages_carry_security_headers(odra_client):
    response = odra_client.get("/login/")
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_api_answers_are_downloads_with_every_header(odra_client):
    response = odra_client.get("/api/v1/cooperative/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="api.json"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("application/json")
    # A page is not a download.
    assert "Content-Disposition" not in odra_client.get("/login/")


def test_no_server_version_in_the_answers(odra_client):
    response = odra_client.get("/login/")
    assert "Server" not in response and "X-Powered-By" not in response


def test_forms_refuse_a_post_without_the_csrf_token(odra):
    from django.test import Client

    client = Client(HTTP_HOST="odra.localhost", enforce_csrf_checks=True)
    for path in ("/login/", "/panel/login/", "/logout/"):
        assert client.post(path, {"username": "x", "password": "y"}).status_code == 403, path
    apex = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    assert apex.post("/login/", {"username": "x", "password": "y"}).status_code == 403
