"""The project's settings, plus what the migration benchmark varies.

BENCH_PROCESSES: django-tenants' TENANT_MULTIPROCESSING_MAX_PROCESSES.
BENCH_TENANT_APP: a throwaway tenant app (with one migration) put on the path by
bench/migrate_benchmark.py; it never lives in the repository.
"""

import os

from ebok_platform.settings import *  # noqa: F403
from ebok_platform.settings import INSTALLED_APPS, TENANT_APPS

TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
TENANT_MULTIPROCESSING_CHUNKS = int(os.environ.get("BENCH_CHUNKS", "2"))

if os.environ.get("BENCH_TENANT_APP"):
    TENANT_APPS = [*TENANT_APPS, os.environ["BENCH_TENANT_APP"]]
    INSTALLED_APPS = [*INSTALLED_APPS, os.environ["BENCH_TENANT_APP"]]
