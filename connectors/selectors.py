"""Reads of the connectors app (sync history and live progress)."""

from django_tenants.utils import tenant_context

from connectors.models import SyncRun


def sync_status(cooperative) -> dict | None:
    """The cooperative's latest sync record, for a live progress display.

    Returns None before the first sync, else::

        {"id", "outcome" ("running" while it runs), "started_at", "finished_at",
         "package_number", "as_of", "mode", "counts", "errors",
         "progress": {"phase": "opening" | "reading" | "validating" | "applying"
                      | "checking balances" | "done",
                      "file": current file while reading, "bytes_done", "bytes",
                      "rows": rows staged (while applying)}}

    Poll it (e.g. every second) after ``connectors.services.start_sync``.
    """
    with tenant_context(cooperative):
        run = SyncRun.objects.order_by("-started_at", "-pk").first()
        if run is None:
            return None
        return {
            "id": run.pk,
            "outcome": run.outcome,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "package_number": run.package_number,
            "as_of": run.as_of,
            "mode": run.mode,
            "counts": run.counts,
            "errors": run.errors,
            "progress": run.progress,
        }


def recent_runs(cooperative, limit: int = 50) -> list[SyncRun]:
    with tenant_context(cooperative):
        return list(SyncRun.objects.order_by("-started_at", "-pk")[:limit])
