"""Writes of the connectors app: apply a package, run a sync, configure a connector.

Reading the progress of a sync is in ``connectors.selectors``.
"""

import datetime as dt
import logging
import random
import shutil
import time
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from connectors.models import SyncRun
from connectors.registry import (
    CheckResult,
    ConnectorError,
    SourceState,
    get_connector,
)
from connectors.schedule import parse_schedule
from connectors.secrets import decrypt_secrets, encrypt_secrets
from connectors.zsi.errors import PackageProblem, PackageRejected
from connectors.zsi.loader import Importer
from connectors.zsi.package import HEADER_FILE, Header, Limits, Package, read_header
from ebok.keys import documents as stored_documents
from ebok.keys.keyring import KeyringError
from tenants.models import ConnectorSettings, Cooperative

logger = logging.getLogger(__name__)

# Advisory lock key space of "one sync per cooperative" (first half of the key).
LOCK_CLASS = 0x5A51
PROGRESS_EVERY_SECONDS = 0.5
MAX_PACKAGES_PER_SYNC = 50


class SyncBusy(Exception):
    """Another sync of the same cooperative holds the lock."""


@dataclass
class ImportResult:
    outcome: str
    run: SyncRun
    problems: list[PackageProblem] = field(default_factory=list)

    @property
    def report(self) -> str:
        lines = [f"{self.outcome}: {self.run.source}"]
        if self.run.package_number:
            lines.append(f"NUMER_PACZKI={self.run.package_number} STAN_NA={self.run.as_of}")
        lines += [str(p) for p in self.problems]
        return "\n".join(lines) + "\n"


# --- the database connection that applies ------------------------------------------


def open_apply_connection(schema: str) -> psycopg.Connection:
    """A dedicated connection: the apply transaction, the staging tables and the
    cooperative's lock live and die with it (a killed process rolls back)."""
    db = connection.settings_dict
    conn = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
        application_name=f"ebok-sync-{schema}",
    )
    with conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        # Staging sorts and hashes of a large ledger: give them memory, not disk.
        cur.execute("SET work_mem TO '256MB'")
        cur.execute("SET maintenance_work_mem TO '512MB'")
        # Compiling the wide validation expressions costs more than it saves.
        cur.execute("SET jit TO off")
        # A package can be applied again; no need to wait for the WAL flush at commit.
        cur.execute("SET synchronous_commit TO off")
    return conn


@contextmanager
def cooperative_lock(cooperative: Cooperative, *, wait: bool):
    """Holds the cooperative's sync lock (a session advisory lock) on a fresh
    apply connection; yields the connection. Raises SyncBusy if not ``wait``."""
    conn = open_apply_connection(cooperative.schema_name)
    try:
        with conn.cursor() as cur:
            if wait:
                cur.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, cooperative.pk))
            else:
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, cooperative.pk))
                if not cur.fetchone()[0]:
                    raise SyncBusy(cooperative.code)
        _mark_interrupted_runs()
        remove_interrupted_files(cooperative)
        yield conn
    finally:
        conn.close()


def remove_interrupted_files(cooperative: Cooperative) -> None:
    """Temporary files a killed process left behind (ASVS 8.1.2): REST downloads being
    assembled and PDFs being stored. Only the holder of the cooperative's lock writes
    them, so under the lock any that exist are orphans."""
    from connectors.zsi_rest import WORKDIR_PREFIX, rest_folder

    for workdir in rest_folder(cooperative.code).glob(f"{WORKDIR_PREFIX}*"):
        shutil.rmtree(workdir, ignore_errors=True)
    documents = stored_documents.root_of(cooperative.schema_name)
    for partial in documents.glob(f"*/{stored_documents.INCOMING_PREFIX}*"):
        partial.unlink(missing_ok=True)


def _mark_interrupted_runs() -> None:
    # We hold the lock, so a run still "running" belongs to a process that died.
    SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING).update(
        outcome=SyncRun.Outcome.FAILED,
        finished_at=timezone.now(),
        errors=[{"message": "interrupted: the process ended during the sync"}],
    )


# --- sync records --------------------------------------------------------------------


def begin_run(*, connector: str, trigger: str, source: str) -> SyncRun:
    return SyncRun.objects.create(
        connector=connector,
        trigger=trigger,
        source=str(source)[:500],
        progress={"phase": "opening"},
    )


def record_sync(
    run: SyncRun,
    *,
    outcome: str,
    problems: list[PackageProblem] | None = None,
    header: Header | None = None,
    counts: dict | None = None,
    started: float | None = None,
) -> SyncRun:
    """Finish a sync record and the cooperative's health fields."""
    run.outcome = outcome
    run.finished_at = timezone.now()
    if header is not None:
        _describe(run, header)
    if counts is not None:
        run.counts = counts
    run.errors = [p.as_dict() for p in problems or []]
    if started is not None:
        run.duration_ms = int((time.monotonic() - started) * 1000)
    run.progress = {**(run.progress or {}), "phase": "done"}
    run.save()
    _record_health(run)
    return run


def _describe(run: SyncRun, header: Header) -> None:
    run.package_number = header.number
    run.checksum = header.checksum
    run.as_of = header.as_of
    run.mode = header.mode


def _record_health(run: SyncRun) -> None:
    cooperative = connection.tenant
    now = timezone.now()
    fields = {"last_outcome": run.outcome}
    if run.outcome in (SyncRun.Outcome.APPLIED, SyncRun.Outcome.DUPLICATE, SyncRun.Outcome.NOTHING):
        fields.update(last_success_at=now, last_error="")
        if run.outcome == SyncRun.Outcome.APPLIED:
            fields["data_as_of"] = run.as_of
    else:
        fields.update(
            last_failure_at=now,
            last_error="\n".join(str(PackageProblem(**e)) for e in run.errors[:20])[:5000],
        )
    ConnectorSettings.objects.filter(cooperative_id=cooperative.pk).update(**fields)


class _ProgressWriter:
    """Throttled writes of SyncRun.progress, on Django's (autocommit) connection,
    so they are visible while the apply transaction is still open."""

    def __init__(self, run: SyncRun, callback: Callable | None = None):
        self.run = run
        self.callback = callback
        self._last = 0.0

    def __call__(self, **progress):
        if self.callback:
            self.callback(progress)
        now = time.monotonic()
        phase_changed = progress.get("phase") != (self.run.progress or {}).get("phase")
        if not phase_changed and now - self._last < PROGRESS_EVERY_SECONDS:
            return
        self._last = now
        self.run.progress = progress
        SyncRun.objects.filter(pk=self.run.pk).update(progress=progress)


# --- apply ---------------------------------------------------------------------------


def _order_verdict(conn: psycopg.Connection, header: Header) -> str | None:
    """'duplicate', or None to apply; raises PackageRejected when out of order."""
    with conn.cursor() as cur:
        cur.execute("SELECT package_number, as_of, checksum FROM ebok_data_freshness LIMIT 1")
        last = cur.fetchone()
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM connectors_sync_run WHERE outcome = 'applied' "
            "AND package_number = %s AND checksum = %s)",
            (header.number, header.checksum),
        )
        applied_before = cur.fetchone()[0]
    if last is None:
        if header.mode == "PRZYROSTOWY":
            raise PackageRejected(
                [
                    PackageProblem(
                        _("a PRZYROSTOWY package needs a base: nothing was applied yet"),
                        file=HEADER_FILE,
                        column="TRYB",
                        value=header.mode,
                    )
                ]
            )
        return None
    number, as_of, checksum = last
    if (header.number == number and header.checksum == checksum) or applied_before:
        return "duplicate"
    if header.number < number:
        message = _("a lower number than the last applied package (%(n)s)") % {"n": number}
        raise PackageRejected(
            [
                PackageProblem(
                    message, file=HEADER_FILE, column="NUMER_PACZKI", value=str(header.number)
                )
            ]
        )
    if header.number == number:
        message = _("package %(n)s was already applied with other content") % {"n": number}
        raise PackageRejected(
            [
                PackageProblem(
                    message, file=HEADER_FILE, column="NUMER_PACZKI", value=str(header.number)
                )
            ]
        )
    if header.as_of < as_of:
        message = _("STAN_NA is earlier than that of the last applied package (%(d)s)") % {
            "d": as_of.isoformat()
        }
        raise PackageRejected(
            [PackageProblem(message, file=HEADER_FILE, column="STAN_NA", value=str(header.as_of))]
        )
    return None


def apply_package(
    cooperative: Cooperative,
    path: Path | str,
    *,
    trigger: str = "command",
    connector: str = "import",
    source: str | None = None,
    conn: psycopg.Connection | None = None,
    limits: Limits | None = None,
    on_progress: Callable | None = None,
) -> ImportResult:
    """Validate and apply one package (ZIP or folder) to the cooperative.

    Returns the outcome ('applied', 'duplicate', 'rejected' or 'failed') with its
    SyncRun. Nothing of a rejected or failed package stays applied. Takes the
    cooperative's sync lock (waiting for it) unless ``conn`` already holds it.
    """
    with tenant_context(cooperative):
        if conn is None:
            with cooperative_lock(cooperative, wait=True) as own:
                return _apply_locked(
                    cooperative, Path(path), own, trigger, connector, source, limits, on_progress
                )
        return _apply_locked(
            cooperative, Path(path), conn, trigger, connector, source, limits, on_progress
        )


def _apply_locked(cooperative, path, conn, trigger, connector, source, limits, on_progress):
    started = time.monotonic()
    run = begin_run(connector=connector, trigger=trigger, source=source or str(path))
    progress = _ProgressWriter(run, on_progress)
    header = None
    try:
        with Package(path, limits) as package:
            header = read_header(package)
            _describe(run, header)
            run.save(update_fields=["package_number", "checksum", "as_of", "mode"])
            if header.cooperative_code != cooperative.code:
                raise PackageRejected(
                    [
                        PackageProblem(
                            _("the package is for another cooperative (expected %(code)s)")
                            % {"code": cooperative.code},
                            file=HEADER_FILE,
                            column="KOD_SPOLDZIELNI",
                            value=header.cooperative_code,
                        )
                    ]
                )
            importer = Importer(
                conn,
                package,
                header,
                schema=cooperative.schema_name,
                progress=progress,
                previous_files=_last_applied_files(conn),
            )
            with conn.transaction():
                if _order_verdict(conn, header) == "duplicate":
                    return ImportResult(
                        "duplicate",
                        record_sync(run, outcome="duplicate", header=header, started=started),
                    )
                details = importer.run()
        counts = {
            **details["rows"],
            "changes": details["changes"],
            "timings": details["timings"],
            "files": importer.file_keys(),
        }
        run = record_sync(run, outcome="applied", header=header, counts=counts, started=started)
        _collect_unused_documents(cooperative)
        return ImportResult("applied", run)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # A damaged or lying ZIP member (e.g. sizes that do not match): the package's fault.
        problem = PackageProblem(
            _("damaged ZIP file: %(error)s") % {"error": exc}, file=str(path.name)
        )
        record_sync(run, outcome="rejected", problems=[problem], header=header, started=started)
        return ImportResult("rejected", run, [problem])
    except PackageRejected as exc:
        counts = {}
        record_sync(
            run,
            outcome="rejected",
            problems=exc.problems,
            header=header,
            counts=counts,
            started=started,
        )
        return ImportResult("rejected", run, exc.problems)
    except Exception as exc:
        logger.exception("Applying %s to %s failed", path, cooperative.code)
        problem = PackageProblem(f"{type(exc).__name__}: {exc}")
        record_sync(run, outcome="failed", problems=[problem], header=header, started=started)
        return ImportResult("failed", run, [problem])


def _last_applied_files(conn: psycopg.Connection) -> dict:
    """The file keys (encoding and SHA-256) of the package the tables now hold."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT r.counts -> 'files' FROM connectors_sync_run r "
            "JOIN ebok_data_freshness f ON f.checksum = r.checksum "
            "AND f.package_number = r.package_number "
            "WHERE r.outcome = 'applied' ORDER BY r.finished_at DESC LIMIT 1"
        )
        row = cur.fetchone()
    return (row[0] if row else None) or {}


def _collect_unused_documents(cooperative: Cooperative) -> None:
    """Remove stored PDFs no document refers to any more (e.g. of rejected packages)."""
    from ebok.models import Document

    root = stored_documents.root_of(cooperative.schema_name)
    if not root.is_dir():
        return
    used = set(Document.objects.values_list("stored_path", flat=True))
    base = root.parent
    for path in root.glob("*/*.pdf"):
        if str(path.relative_to(base)) not in used:
            path.unlink(missing_ok=True)


# --- syncs ------------------------------------------------------------------------------


@dataclass
class SyncSummary:
    outcome: str  # applied, nothing, duplicate, rejected, failed, busy
    results: list[ImportResult] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("applied", "nothing", "duplicate", "busy")


def connector_config(row: ConnectorSettings) -> dict:
    return {**(row.config or {}), **decrypt_secrets(row.encrypted_secrets)}


def source_state(cooperative: Cooperative) -> SourceState:
    from ebok.models import DataFreshness

    with tenant_context(cooperative):
        last = DataFreshness.objects.first()
    return SourceState(
        cooperative_code=cooperative.code,
        schema_name=cooperative.schema_name,
        last_number=last.package_number if last else None,
        last_as_of=last.as_of if last else None,
        stored_documents=Path(settings.PRIVATE_STORAGE_ROOT) / cooperative.schema_name,
    )


def run_sync(
    cooperative: Cooperative,
    *,
    trigger: str = "schedule",
    wait: bool = False,
    on_progress: Callable | None = None,
) -> SyncSummary:
    """Run the cooperative's connector once: apply every waiting package, oldest
    first, stopping at the first one that is rejected or fails."""
    row = ConnectorSettings.objects.filter(cooperative=cooperative).first()
    if row is None:
        return SyncSummary("failed", message=_("No connector is configured."))
    connector = get_connector(row.connector)
    try:
        config = connector_config(row)
    except KeyringError as exc:  # e.g. Vault Transit unreachable: a failed sync, not a crash
        return SyncSummary("failed", message=str(exc))
    with tenant_context(cooperative):
        try:
            lock = cooperative_lock(cooperative, wait=wait)
            conn = lock.__enter__()
        except SyncBusy:
            return SyncSummary("busy", message=_("Another sync of this cooperative is running."))
        try:
            return _sync_locked(cooperative, connector, config, conn, trigger, on_progress)
        finally:
            lock.__exit__(None, None, None)


def _sync_locked(cooperative, connector, config, conn, trigger, on_progress) -> SyncSummary:
    summary = SyncSummary("nothing")
    for _round in range(MAX_PACKAGES_PER_SYNC):
        state = source_state(cooperative)
        started = time.monotonic()
        try:
            incoming = connector.read(config, state)
        except (ConnectorError, PackageRejected) as exc:
            outcome = "rejected" if isinstance(exc, PackageRejected) else "failed"
            problems = (
                exc.problems if isinstance(exc, PackageRejected) else [PackageProblem(str(exc))]
            )
            run = begin_run(connector=connector.name, trigger=trigger, source=config.get("url", ""))
            record_sync(run, outcome=outcome, problems=problems, started=started)
            summary.outcome = outcome
            summary.results.append(ImportResult(outcome, run, problems))
            summary.message = str(problems[0])
            return summary
        if incoming is None:
            if not summary.results:
                run = begin_run(connector=connector.name, trigger=trigger, source="")
                record_sync(run, outcome="nothing", started=started)
            return summary
        result = apply_package(
            cooperative,
            incoming.path,
            trigger=trigger,
            connector=connector.name,
            source=incoming.source,
            conn=conn,
            on_progress=on_progress,
        )
        incoming.finish(result.outcome, result.report)
        summary.results.append(result)
        if result.outcome in ("rejected", "failed"):
            summary.outcome = result.outcome
            summary.message = str(result.problems[0]) if result.problems else ""
            return summary
        if result.outcome == "applied" or summary.outcome == "nothing":
            summary.outcome = result.outcome
    return summary


class SyncNotConfigured(Exception):
    """A sync asked for a cooperative whose connector nobody has configured."""


def start_sync(cooperative: Cooperative, trigger: str = "manual") -> str:
    """Enqueue a sync of the cooperative on the sync queue; returns the task id.

    Follow it with ``connectors.selectors.sync_status(cooperative)``: the latest
    SyncRun's outcome and ``progress`` ({"phase": opening|reading|validating|
    applying|checking balances|done, "file", "bytes_done", "bytes", "rows"}).
    """
    from connectors.tasks import enqueue_sync

    if not ConnectorSettings.objects.filter(cooperative_id=cooperative.pk).exists():
        raise SyncNotConfigured(_("No connector is configured for this cooperative yet."))
    return enqueue_sync(cooperative, trigger=trigger, countdown=0)


# --- configuration ------------------------------------------------------------------------


class ConfigurationError(ValueError):
    pass


def configure_connector(
    cooperative: Cooperative,
    *,
    connector: str,
    config: dict,
    schedule: str | None = None,
    enabled: bool = True,
) -> tuple[ConnectorSettings, CheckResult]:
    """Store the cooperative's connector, its (encrypted) secrets and schedule,
    then ``check`` the source. The result says whether the source answered."""
    try:
        plugin = get_connector(connector)
    except ConnectorError as exc:
        raise ConfigurationError(str(exc)) from exc
    problems = plugin.validate_config(config)
    if problems:
        raise ConfigurationError("; ".join(problems))
    secret_keys = set(plugin.secret_fields())
    public = {k: v for k, v in config.items() if k not in secret_keys}
    secrets = {k: v for k, v in config.items() if k in secret_keys}
    row = ConnectorSettings.objects.filter(cooperative=cooperative).first()
    if row is None:
        row = ConnectorSettings(cooperative=cooperative)
    if schedule is not None:
        try:
            parsed = parse_schedule(schedule)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        row.schedule = parsed.text
    parsed = parse_schedule(row.schedule)
    row.connector = connector
    row.config = public
    try:
        row.encrypted_secrets = encrypt_secrets(secrets)
    except KeyringError as exc:
        raise ConfigurationError(str(exc)) from exc
    row.enabled = enabled
    row.next_run_at = parsed.next_after(timezone.now())
    row.save()
    return row, plugin.check(config)


def set_schedule(row: ConnectorSettings, schedule: str) -> ConnectorSettings:
    parsed = parse_schedule(schedule)
    row.schedule = parsed.text
    row.next_run_at = parsed.next_after(timezone.now())
    row.save(update_fields=["schedule", "next_run_at"])
    return row


def due_settings_ids(now: dt.datetime) -> list[int]:
    return list(
        ConnectorSettings.objects.filter(
            enabled=True, next_run_at__lte=now, cooperative__is_active=True
        ).values_list("pk", flat=True)
    )


def dispatch_due_syncs(now: dt.datetime | None = None) -> list[str]:
    """Enqueue a sync for every due cooperative and advance its next run.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so two dispatchers never
    enqueue the same slot twice. Returns the dispatched cooperatives' codes.
    """
    from connectors.tasks import enqueue_sync

    now = now or timezone.now()
    dispatched = []
    with transaction.atomic():
        due = list(
            ConnectorSettings.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(enabled=True, next_run_at__lte=now, cooperative__is_active=True)
            .select_related("cooperative")
        )
        for row in due:
            try:
                row.next_run_at = parse_schedule(row.schedule).next_after(now)
            except ValueError:
                row.next_run_at = now + dt.timedelta(days=1)
                logger.error("Bad schedule %r of %s", row.schedule, row.cooperative.code)
            row.last_dispatched_at = now
        ConnectorSettings.objects.bulk_update(due, ["next_run_at", "last_dispatched_at"])
        jitter = float(settings.SYNC_DISPATCH_JITTER_SECONDS)
        for row in due:
            cooperative = row.cooperative
            countdown = random.uniform(0, jitter) if jitter > 0 else 0
            transaction.on_commit(
                lambda c=cooperative, d=countdown: enqueue_sync(c, trigger="schedule", countdown=d)
            )
            dispatched.append(cooperative.code)
    return dispatched
