"""Host → cooperative routing: one lookup when cold, no statement at all once warm."""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from tenants import middleware
from tenants.middleware import CooperativeMiddleware, forget_cached_hosts


@pytest.fixture
def route(settings):
    settings.TENANT_CACHE_SECONDS = 30
    forget_cached_hosts()
    handler = CooperativeMiddleware(lambda request: None)
    factory = RequestFactory()

    def send(host: str):
        request = factory.get("/", HTTP_HOST=host)
        assert handler.process_request(request) is None
        return request

    yield send
    forget_cached_hosts()


@contextmanager
def one_lookup():
    """Exactly one SELECT of the host's domain (besides django-tenants' SET search_path)."""
    with CaptureQueriesContext(connection) as captured:
        yield
    statements = [q["sql"] for q in captured.captured_queries]
    lookups = [sql for sql in statements if not sql.startswith("SET search_path")]
    assert len(lookups) == 1, statements
    assert 'FROM "tenants_domain"' in lookups[0]


def test_a_cold_host_costs_one_query_and_a_warm_one_none(
    odra, warta, route, django_assert_num_queries
):
    with one_lookup():
        assert route("odra.localhost").tenant == odra
    with django_assert_num_queries(0):
        request = route("odra.localhost")
    assert request.tenant == odra
    assert connection.schema_name == "odra"
    with one_lookup():
        assert route("warta.localhost").tenant == warta
    with django_assert_num_queries(0):
        for _ in range(100):
            route("odra.localhost")
            route("warta.localhost:8000")  # the port does not make another entry
    assert connection.schema_name == "warta"


def test_a_warm_entry_expires_after_tenant_cache_seconds(
    odra, route, monkeypatch, django_assert_num_queries
):
    clock = [1000.0]
    monkeypatch.setattr(middleware.time, "monotonic", lambda: clock[0])
    route("odra.localhost")
    clock[0] += 29
    with django_assert_num_queries(0):
        route("odra.localhost")
    clock[0] += 2
    with one_lookup():
        route("odra.localhost")


def test_with_caching_off_every_request_asks_the_database(odra, route, settings):
    settings.TENANT_CACHE_SECONDS = 0
    for _ in range(3):
        with one_lookup():
            route("odra.localhost")
