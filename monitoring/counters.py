"""Requests and API error responses per cooperative, counted per minute in Redis.

One pipelined round trip per request; the checks add up the minutes of their
window. Counting never fails a request: Redis trouble only loses counts.
"""

import logging
import time
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

REQUESTS = "requests"
API_ERRORS = "api_errors"


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5)


def _key(schema: str, metric: str, minute: int) -> str:
    return f"{settings.CACHES['default']['KEY_PREFIX']}:traffic:{schema}:{metric}:{minute}"


def _keep_seconds() -> int:
    return settings.SECURITY_ALERT_WINDOW_MINUTES * 60 + 120


def count_request(schema: str, *, api_error: bool) -> None:
    minute = int(time.time() // 60)
    metrics = (REQUESTS, API_ERRORS) if api_error else (REQUESTS,)
    try:
        pipe = _client().pipeline(transaction=False)
        for metric in metrics:
            key = _key(schema, metric, minute)
            pipe.incr(key)
            pipe.expire(key, _keep_seconds())
        pipe.execute()
    except redis.RedisError as error:
        logger.debug("Request not counted: %s", error)


def recent(schema: str, metric: str, *, minutes: int, now: float | None = None) -> int:
    """Requests of the last ``minutes`` (including the current minute)."""
    last = int((now if now is not None else time.time()) // 60)
    keys = [_key(schema, metric, minute) for minute in range(last - minutes + 1, last + 1)]
    return sum(int(value) for value in _client().mget(keys) if value is not None)
