"""Host → cooperative routing with every benchmark cooperative in place: the
middleware's cost per request, cold (cache miss: one indexed lookup) and warm
(a dict hit, no statement), its memory, and what django-tenants' ``SET
search_path`` adds to each later query of a request.

    .venv/bin/python bench/routing_benchmark.py

Needs the database made by bench/tenants_benchmark.py.
"""

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_url, report, setup_django, summary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=2000, help="cold requests to time")
    parser.add_argument("--warm", type=int, default=100_000, help="warm requests to time")
    parser.add_argument("--queries", type=int, default=8, help="queries per simulated request")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    args = parser.parse_args()

    setup_django(database_url(args.database_url), TENANT_CACHE_SECONDS=3600)
    from django.db import connection
    from django.test import RequestFactory, override_settings
    from django.test.utils import CaptureQueriesContext

    from tenants.middleware import CooperativeMiddleware, forget_cached_hosts
    from tenants.models import Domain

    hosts = list(
        Domain.objects.exclude(tenant__schema_name="public").values_list("domain", flat=True)
    )
    middleware = CooperativeMiddleware(lambda request: None)
    factory = RequestFactory()
    requests = {host: factory.get("/", HTTP_HOST=host) for host in hosts}
    rng = random.Random(8)

    def route(host: str) -> float:
        start = time.perf_counter()
        middleware.process_request(requests[host])
        return time.perf_counter() - start

    def statements_of(action, times: int = 100) -> float:
        """Statements per call, counted on a sample (Django keeps only 9,000)."""
        with CaptureQueriesContext(connection) as captured:
            for _ in range(times):
                action()
        return len(captured.captured_queries) / times

    def route_cold():
        forget_cached_hosts()
        return route(rng.choice(hosts))

    def route_warm():
        return route(rng.choice(hosts))

    cold = [route_cold() for _ in range(args.cold)]
    cold_statements = statements_of(route_cold)

    forget_cached_hosts()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for host in hosts:
        route(host)
    cache_bytes = sum(
        stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename")
    )
    tracemalloc.stop()

    warm = [route_warm() for _ in range(args.warm)]
    warm_statements = statements_of(route_warm, 1000)

    def request_with_queries() -> float:
        """Route, then run ``--queries`` trivial queries, as a view would."""
        start = time.perf_counter()
        middleware.process_request(requests[rng.choice(hosts)])
        for _ in range(args.queries):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        return time.perf_counter() - start

    def requests_with_queries(limit_set_calls: bool) -> dict:
        with override_settings(TENANT_LIMIT_SET_CALLS=limit_set_calls):
            durations = [request_with_queries() for _ in range(3000)]
            statements = statements_of(request_with_queries)
        return {**summary(durations), "statements_per_request": statements}

    report(
        "routing",
        {
            "cooperatives": len(hosts),
            "cold": {**summary(cold), "statements_per_request": cold_statements},
            "warm": {**summary(warm), "statements_per_request": warm_statements},
            "cache_kib_for_all_hosts": round(cache_bytes / 1024, 1),
            "cache_bytes_per_host": round(cache_bytes / len(hosts)),
            f"request_with_{args.queries}_queries": {
                "search_path_every_cursor": requests_with_queries(False),
                "search_path_once_TENANT_LIMIT_SET_CALLS": requests_with_queries(True),
            },
        },
    )


if __name__ == "__main__":
    main()
