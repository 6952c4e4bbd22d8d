"""Building a run's files, and executing a run exactly once (SECURITY.md RL-2).

``build_files`` is the pure part: kind + parameters → suppressed table → one file per format in
a directory, in the requester's language. ``execute`` wraps it for the worker:

1. **Overlap guard.** A PostgreSQL session advisory lock keyed by the run id: a second worker
   that receives the same run (a redelivery while the first is still alive) sees it taken and
   leaves. The lock dies with the connection, so a killed worker never leaves it behind.
2. **Claim.** Under ``SELECT ... FOR UPDATE`` the run is re-read: done or failed → nothing to do;
   otherwise ``deliveries`` is counted, and past ``REPORT_MAX_DELIVERIES`` the run is marked
   failed (a poison message that kills its worker every time stops here).
3. **Build** outside any transaction, so progress (``GREATEST(progress, new)``: monotonic even
   across a restart) is visible to the page while the work goes on.
4. **Finish** in one transaction with ``consume_once``: earlier files of this run are removed
   from storage, the new ones stored under ``reports/<run id>/``, ``ReportFile`` rows written
   and the run marked done. A crash before this commit leaves no half-finished run: the
   redelivered message builds again and stores one set of files.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from privacy import outbox
from reports.builders import build_table
from reports.exporters.pdf import write_pdf
from reports.exporters.tabular import write_csv, write_hxl, write_xlsx
from reports.models import ReportFile, ReportFormat, ReportKind, ReportRun, ReportStatus
from reports.params import ReportParams
from reports.tables import Table

logger = structlog.get_logger(__name__)
GENERATE_TASK = "reports.generate"
# Sent once, inside the transaction that marks a run done or failed (kwargs: run): where the
# partner webhook (``api.signals``) attaches.
run_finished = Signal()

WRITERS = {
    ReportFormat.CSV: (write_csv, "csv"),
    ReportFormat.XLSX: (write_xlsx, "xlsx"),
    ReportFormat.PDF: (write_pdf, "pdf"),
    ReportFormat.HXL: (write_hxl, "hxl.csv"),
}


class ReportError(Exception):
    """A failure whose message is safe to show (no personal data)."""


@dataclass(frozen=True)
class BuiltFile:
    format: str
    path: Path
    rows: int
    size: int
    sha256: str
    hidden: int = 0  # suppressed cells of the table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def file_stem(kind: str, params: ReportParams) -> str:
    return f"{kind}_{params.date_from:%Y%m%d}_{params.date_to:%Y%m%d}"


def _summary(kind: str, params: ReportParams, table: Table) -> list[tuple[str, object]]:
    places = ", ".join(params.places) or _("All places")
    return [
        (_("Report"), ReportKind(kind).label),
        (_("Period"), f"{params.date_from.isoformat()} – {params.date_to.isoformat()}"),
        (_("Places"), places),
        (_("Grouping"), _("By place") if params.grouping == "place" else _("All places together")),
        (_("Rows"), len(table.rows)),
        (_("Small cells"), _("Counts under %(k)d are shown as \"<%(k)d\"; more cells are hidden where a total "
                             "would give them away (secondary suppression).") % {"k": table.k}),
        (_("Hidden cells"), len(table.suppressed)),
    ]


def build_files(kind: str, params: ReportParams, directory: Path, progress: Callable[[int], None] = lambda p: None) -> list[BuiltFile]:
    """Build every requested format of one report into ``directory`` (in the run's language)."""
    with translation.override(params.language):
        progress(5)
        table = build_table(kind, params)
        progress(30)
        context = {
            "title": ReportKind(kind).label, "summary": _summary(kind, params, table), "language": params.language,
            "total_label": _("Total"), "key_count": len(table.keys), "notes": table.notes,
        }
        return [_write(fmt, i, table, params, kind, directory, context, progress) for i, fmt in enumerate(params.formats)]


def _write(fmt, index, table, params, kind, directory, context, progress) -> BuiltFile:
    writer, extension = WRITERS[fmt]
    share = 65 / max(len(params.formats), 1)

    def tick() -> None:
        if settings.REPORT_CHUNK_DELAY:
            time.sleep(settings.REPORT_CHUNK_DELAY)  # tests only: makes a run slow enough to kill
        progress(int(30 + share * index))

    path = directory / f"{file_stem(kind, params)}.{extension}"
    rows = writer(table, path, tick, context)
    progress(int(30 + share * (index + 1)))
    return BuiltFile(fmt, path, rows, path.stat().st_size, _sha256(path), len(table.suppressed))


def set_progress(run_id, value: int) -> None:
    """Raise the visible progress (never lower it: a restarted run keeps its high-water mark)."""
    ReportRun.objects.filter(pk=run_id, status=ReportStatus.RUNNING).update(
        progress=Greatest(F("progress"), min(int(value), 99))
    )


@contextlib.contextmanager
def run_lock(run_id) -> Iterator[bool]:
    """A session advisory lock on PostgreSQL (released when the connection dies); elsewhere
    (SQLite, one writer at a time) always granted."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = int(str(run_id).replace("-", "")[:15], 16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _claim(run_id) -> ReportRun | None:
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.finished:
            return None
        run.deliveries += 1
        if run.deliveries > settings.REPORT_MAX_DELIVERIES:
            _mark_failed(run, "reports.DeliveryLimitExceeded",
                         _("Stopped after %(n)d attempts: the report kept interrupting its worker.") % {"n": run.deliveries - 1})
            return None
        run.status = ReportStatus.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["deliveries", "status", "started_at"])
    return run


def _mark_failed(run: ReportRun, error_class: str, message: str) -> None:
    run.status = ReportStatus.FAILED
    run.error_class = error_class[:200]
    run.error_message = message[:300]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error_class", "error_message", "finished_at", "deliveries"])
    run_finished.send(ReportRun, run=run)


def fail(run_id, exc: BaseException) -> None:
    """Record a failure: the exception class and a safe message, never the exception text
    (it could quote data)."""
    message = str(exc) if isinstance(exc, ReportError) else _("The report could not be built.")
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if not run.finished:
            _mark_failed(run, f"{type(exc).__module__}.{type(exc).__qualname__}", message)


def storage_dir(run: ReportRun) -> str:
    return f"reports/{run.pk}"


def remove_stored_files(run: ReportRun) -> None:
    """Delete whatever an earlier, interrupted attempt left in the run's folder."""
    folder = storage_dir(run)
    with contextlib.suppress(FileNotFoundError, NotImplementedError):
        for name in default_storage.listdir(folder)[1]:
            default_storage.delete(f"{folder}/{name}")
    run.files.all().delete()


def _store(run: ReportRun, built: list[BuiltFile]) -> None:
    remove_stored_files(run)
    for item in built:
        with item.path.open("rb") as handle:
            name = default_storage.save(f"{storage_dir(run)}/{item.path.name}", File(handle))
        ReportFile.objects.create(run=run, format=item.format, storage_name=name, size=item.size,
                                  sha256=item.sha256, row_count=item.rows)


def _finish(run_id, built: list[BuiltFile], outbox_id) -> None:
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if run.finished:
            return
        consumed = outbox.consume_once(outbox_id, GENERATE_TASK) if outbox_id else contextlib.nullcontext(True)
        with consumed as first_time:
            if not first_time:
                return
            _store(run, built)
            run.status, run.progress, run.finished_at = ReportStatus.DONE, 100, timezone.now()
            run.row_count = max((b.rows for b in built), default=0)
            run.suppressed_cells = max((b.hidden for b in built), default=0)
            run.save(update_fields=["status", "progress", "finished_at", "row_count", "suppressed_cells"])
            run_finished.send(ReportRun, run=run)


def _savepoint_if_nested():
    """Inside an outer transaction (eager mode) a failing build must not break it."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def execute(run_id, *, outbox_id=None) -> str:
    """Run a report to completion once; returns "done", "skipped", "busy" or "failed"."""
    with run_lock(run_id) as acquired:
        if not acquired:
            return "busy"
        run = _claim(run_id)
        if run is None:
            return "skipped"
        params = ReportParams.from_json(run.parameters)
        try:
            with tempfile.TemporaryDirectory(prefix="frontera-report-") as tmp, _savepoint_if_nested():
                built = build_files(run.kind, params, Path(tmp), lambda p: set_progress(run.pk, p))
                _finish(run.pk, built, outbox_id)
        except Exception as exc:  # the run records the failure; the message is acknowledged
            logger.warning("reports.failed", run=str(run.pk), kind=run.kind, error=type(exc).__name__)
            fail(run.pk, exc)
            return "failed"
    logger.info("reports.done", run=str(run.pk), kind=run.kind)
    return "done"
