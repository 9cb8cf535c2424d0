"""gunicorn settings, shared by docker-compose, the demo and the tests."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
# Longer than any client's pause between requests: a server closing an idle
# connection just as the client reuses it shows up as a reset.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
