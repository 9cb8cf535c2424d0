"""A Celery worker killed in the middle of applying a package: readers keep the
previous state, and the task, acknowledged late, runs again and lands."""

import os
import signal

import psutil
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from connectors.models import SyncRun
from connectors.services import apply_package, configure_connector
from connectors.tasks import enqueue_sync
from tests.connectors.test_live import freshness_number, wait_for
from tests.support.processes import celery_worker
from tests.support.zsi import full_package

pytestmark = pytest.mark.live


def _applying(coop, number):
    with schema_context(coop.schema_name):
        return SyncRun.objects.filter(
            package_number=number, progress__phase__in=["applying", "checking balances"]
        ).first()


def test_a_worker_killed_mid_apply_leaves_the_old_state_and_the_task_runs_again(
    coop, tmp_path, fingerprint
):
    assert apply_package(
        coop, full_package(tmp_path / "p1", premises=3, code=coop.code)
    ).outcome == ("applied")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = full_package(
        inbox / f"{coop.code}_2.zip", premises=1200, years=3, code=coop.code, number=2
    )
    configure_connector(coop, connector="zsi-file", config={"inbox": str(inbox)})
    connection.set_schema_to_public()
    state = fingerprint()

    with celery_worker("doomed") as worker:
        enqueue_sync(coop, trigger="manual")
        wait_for(lambda: _applying(coop, 2), timeout=120)
        # The pool process doing the apply dies at once, as under the OOM killer.
        children = psutil.Process(worker.pid).children()
        assert len(children) == 1
        os.kill(children[0].pid, signal.SIGKILL)
        assert fingerprint() == state  # the half-done transaction is gone with its process
        assert big.exists()  # neither archived nor quarantined

        # acks_late + reject_on_worker_lost: the message goes back to the queue and
        # the worker's new pool process runs it again, without anyone asking.
        wait_for(lambda: freshness_number(coop) == 2, timeout=240, every=0.3)
        # The package leaves the inbox right after the commit.
        wait_for(lambda: not big.exists(), timeout=60, every=0.3)

    with schema_context(coop.schema_name):
        runs = list(SyncRun.objects.filter(package_number=2).order_by("started_at"))
    assert runs[-1].outcome == "applied"
    assert runs[0].outcome in {"failed", "running"}
