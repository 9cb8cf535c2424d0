"""Real processes: a killed import, Celery beat dispatching for real, two workers."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors.models import SyncRun
from connectors.services import apply_package, configure_connector
from connectors.tasks import enqueue_sync
from ebok.models import DataFreshness
from tenants.models import ConnectorSettings
from tests.support.processes import ROOT, celery_beat, celery_worker, process_env
from tests.support.zsi import delta_package, full_package

pytestmark = pytest.mark.live


def wait_for(condition, timeout=90, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")


def freshness_number(coop):
    with schema_context(coop.schema_name):
        row = DataFreshness.objects.first()
        return row.package_number if row else None


def test_killing_an_import_leaves_the_previous_state_and_the_next_run_applies_it(
    coop, tmp_path, fingerprint
):
    assert apply_package(
        coop, full_package(tmp_path / "p1", premises=3, code=coop.code)
    ).outcome == ("applied")
    state = fingerprint()
    big = full_package(tmp_path / "p2", premises=1200, years=3, code=coop.code, number=2)
    command = [sys.executable, "manage.py", "import_package", "--cooperative", coop.code, str(big)]
    proc = subprocess.Popen(command, cwd=ROOT, env=process_env(), stdout=subprocess.DEVNULL)

    def applying():
        with schema_context(coop.schema_name):
            return SyncRun.objects.filter(
                package_number=2, progress__phase__in=["applying", "checking balances"]
            ).first()

    try:
        wait_for(applying, timeout=120)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert fingerprint() == state

    result = apply_package(coop, big)  # waits for the dead session's lock to go
    assert result.outcome == "applied", result.problems
    assert freshness_number(coop) == 2
    with schema_context(coop.schema_name):
        killed = SyncRun.objects.filter(package_number=2).order_by("started_at").first()
    assert killed.outcome == "failed" and "interrupted" in killed.errors[0]["message"]


def test_beat_dispatches_a_sync_that_lands(coop, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    full_package(inbox / "CONN_1.zip", premises=3, code=coop.code)
    row, check = configure_connector(
        coop, connector="zsi-file", config={"inbox": str(inbox)}, schedule="every 15m"
    )
    assert check.ok
    ConnectorSettings.objects.filter(pk=row.pk).update(next_run_at=timezone.now())
    env = {"SYNC_DISPATCH_SECONDS": 1, "SYNC_DISPATCH_JITTER_SECONDS": 1}
    with celery_worker("sync-worker", **env), celery_beat(**env):
        wait_for(lambda: freshness_number(coop) == 1, timeout=90, every=0.3)
    row.refresh_from_db()
    assert row.last_outcome == "applied" and row.next_run_at > timezone.now()
    with schema_context(coop.schema_name):
        run = SyncRun.objects.get(outcome="applied")
    assert (run.trigger, run.connector) == ("schedule", "zsi-file")


def test_two_workers_never_run_two_syncs_of_one_cooperative_at_once(coop, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = full_package(inbox / "CONN_1", premises=300, years=2, code=coop.code)
    second = delta_package(first, inbox / "CONN_2")
    delta_package(second, inbox / "CONN_3")
    for age, name in ((30, "CONN_1"), (20, "CONN_2"), (10, "CONN_3")):
        stamp = time.time() - age
        os.utime(inbox / name, (stamp, stamp))
    configure_connector(coop, connector="zsi-file", config={"inbox": str(inbox)})
    connection.set_schema_to_public()
    with celery_worker("sync-a"), celery_worker("sync-b"):
        time.sleep(4)  # both workers up
        for _ in range(6):
            enqueue_sync(coop, trigger="manual")
        wait_for(lambda: freshness_number(coop) == 3, timeout=120, every=0.3)
        time.sleep(2)  # let the remaining tasks finish
    with schema_context(coop.schema_name):
        runs = list(SyncRun.objects.order_by("started_at"))
    applied = [r for r in runs if r.outcome == "applied"]
    assert [r.package_number for r in applied] == [1, 2, 3]
    assert {r.outcome for r in runs} <= {"applied", "nothing"}, [
        (r.outcome, r.errors) for r in runs
    ]
    # Every run of the cooperative, whichever worker ran it, ended before the next began.
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.finished_at <= later.started_at + dt.timedelta(milliseconds=1)
    logs = (ROOT / "var/test-logs/sync-a.log").read_text() + (
        ROOT / "var/test-logs/sync-b.log"
    ).read_text()
    assert "busy" in logs  # the other worker found the lock taken
