"""The beat dispatcher with every benchmark cooperative due at once: how long
``connectors.dispatch_due_syncs`` takes to decide and enqueue, where the time
goes, and how the jitter spreads the syncs.

    .venv/bin/python bench/dispatch_benchmark.py

Needs the database made by bench/tenants_benchmark.py. Gives every benchmark
cooperative a zsi-file connector due a minute ago, dispatches into a separate
Redis database (--redis-db), reads the queued messages back (one per
cooperative, its schema in the headers, its ETA), then flushes that database.
"""

import argparse
import base64
import datetime as dt
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    CODE_PREFIX,
    database_url,
    report,
    setup_django,
    timed,
)


def make_all_due(schedule: str) -> int:
    """Every benchmark cooperative: a zsi-file connector, due a minute ago (set-based)."""
    from django.utils import timezone

    from tenants.models import ConnectorSettings, Cooperative

    due = timezone.now() - dt.timedelta(minutes=1)
    cooperatives = Cooperative.objects.filter(code__startswith=CODE_PREFIX)
    configured = set(ConnectorSettings.objects.values_list("cooperative_id", flat=True))
    ConnectorSettings.objects.bulk_create(
        [
            ConnectorSettings(
                cooperative=cooperative,
                connector="zsi-file",
                config={"inbox": f"/nonexistent/{cooperative.code}/inbox"},
                schedule=schedule,
            )
            for cooperative in cooperatives
            if cooperative.pk not in configured
        ],
        batch_size=1000,
    )
    return ConnectorSettings.objects.filter(cooperative__in=cooperatives).update(
        next_run_at=due, enabled=True, schedule=schedule
    )


class EnqueueClock:
    """Times the enqueue calls the dispatcher makes after its transaction commits."""

    def __init__(self, tasks_module):
        self.module, self.original = tasks_module, tasks_module.enqueue_sync
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self):
        def timed_enqueue(*args, **kwargs):
            with timed() as elapsed:
                result = self.original(*args, **kwargs)
            self.seconds += elapsed()
            self.calls += 1
            return result

        self.module.enqueue_sync = timed_enqueue
        return self

    def __exit__(self, *exc):
        self.module.enqueue_sync = self.original


def queued_messages(redis_url: str, queue: str) -> list[dict]:
    import redis

    client = redis.Redis.from_url(redis_url)
    messages = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        headers = message["headers"]
        body = json.loads(base64.b64decode(message["body"]))
        messages.append(
            {"schema": headers.get("_schema_name"), "eta": headers.get("eta"), **body[1]}
        )
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--schedule", default="every 15m")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    args = parser.parse_args()

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    setup_django(database_url(args.database_url), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
    import redis
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import connectors.tasks
    from connectors.services import dispatch_due_syncs

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        due = make_all_due(args.schedule)
        with (
            CaptureQueriesContext(connection) as queries,
            EnqueueClock(connectors.tasks) as enqueue,
            timed() as elapsed,
        ):
            dispatched = dispatch_due_syncs()
        total = elapsed()
        messages = queued_messages(redis_url, settings.CELERY_SYNC_QUEUE)
        now = dt.datetime.now(dt.UTC)
        delays = sorted(
            (dt.datetime.fromisoformat(m["eta"]) - now).total_seconds()
            for m in messages
            if m["eta"]
        )
        with timed() as again:
            second = dispatch_due_syncs()
        race = two_dispatchers_at_once(make_all_due, args.schedule, redis_url, client)
        result = {
            "due": due,
            "dispatched": len(dispatched),
            "seconds": round(total, 3),
            "enqueue_seconds": round(enqueue.seconds, 3),
            "enqueue_ms_per_task": round(enqueue.seconds / max(enqueue.calls, 1) * 1000, 3),
            "decide_seconds": round(total - enqueue.seconds, 3),
            "statements": len(queries.captured_queries),
            "largest_statement_kib": round(
                max(len(q["sql"]) for q in queries.captured_queries) / 1024, 1
            ),
            "queued": len(messages),
            "queued_distinct_schemas": len({m["schema"] for m in messages}),
            "queued_with_expected_schema": sum(
                m["schema"] == m.get("expected_schema") for m in messages
            ),
            "jitter_seconds_of_eta_from_now": {
                "min": round(delays[0], 1) if delays else None,
                "max": round(delays[-1], 1) if delays else None,
                "configured": settings.SYNC_DISPATCH_JITTER_SECONDS,
            },
            "eta_histogram_5s_buckets": histogram(delays),
            "second_run_right_after": {"dispatched": len(second), "seconds": round(again(), 3)},
            "two_dispatchers_at_once": race,
        }
    finally:
        client.flushdb()
    report("dispatch", result)


def histogram(delays: list[float]) -> dict:
    buckets: dict[int, int] = {}
    for delay in delays:
        buckets[int(delay // 5) * 5] = buckets.get(int(delay // 5) * 5, 0) + 1
    return {f"{start}-{start + 5}s": count for start, count in sorted(buckets.items())}


def two_dispatchers_at_once(make_due, schedule: str, redis_url: str, client) -> dict:
    """Everything due again; two dispatchers (threads, own connections) race for it."""
    from django.conf import settings
    from django.db import connections

    from connectors.services import dispatch_due_syncs

    client.flushdb()
    make_due(schedule)
    results: list[list[str]] = []

    def dispatch():
        try:
            results.append(dispatch_due_syncs())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    with timed() as elapsed:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    codes = [code for result in results for code in result]
    messages = queued_messages(redis_url, settings.CELERY_SYNC_QUEUE)
    return {
        "seconds": round(elapsed(), 3),
        "dispatched_by_each": [len(result) for result in results],
        "duplicates": len(codes) - len(set(codes)),
        "queued": len(messages),
        "queued_distinct_schemas": len({m["schema"] for m in messages}),
    }


if __name__ == "__main__":
    main()
