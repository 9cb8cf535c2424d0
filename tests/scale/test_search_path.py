"""search_path is set once per switch of schema, and a switch is never missed."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from ebok.models import Person
from tenants.middleware import CooperativeMiddleware, forget_cached_hosts


@pytest.fixture
def route(settings):
    settings.TENANT_CACHE_SECONDS = 30
    forget_cached_hosts()
    handler = CooperativeMiddleware(lambda request: None)
    factory = RequestFactory()
    yield lambda host: handler.process_request(factory.get("/", HTTP_HOST=host))
    forget_cached_hosts()


def test_a_request_sets_the_search_path_once_for_all_its_queries(odra, route):
    route("odra.localhost")
    with CaptureQueriesContext(connection) as captured:
        route("odra.localhost")
        for _ in range(3):
            Person.objects.count()
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements[0] == 'SET search_path = "odra","public"'
    assert [sql.startswith("SET search_path") for sql in statements] == [True] + [False] * 3


def test_alternating_cooperatives_on_one_connection_each_see_their_own_rows(
    odra, warta, route, in_schema
):
    with in_schema(odra):
        Person.objects.create(source_id="P1", last_name="Odrzańska")
    with in_schema(warta):
        Person.objects.create(source_id="P1", last_name="Warciańska")
    for _ in range(3):
        route("odra.localhost")
        assert Person.objects.get(source_id="P1").last_name == "Odrzańska"
        route("warta.localhost")
        assert Person.objects.get(source_id="P1").last_name == "Warciańska"
