"""Retention of import files (SECURITY.md DP-4): uploads, unconfirmed previews and per-row error
reports under ``IMPORT_DIR`` hold plaintext names and document numbers, so they are kept only
``RETENTION_IMPORT_FILES_DAYS`` (called by the daily retention purge, ``privacy.retention``).

* a preview never confirmed (a dry-run job) older than the cut-off: its upload and the job go;
* a finished or failed import older than the cut-off: its upload (kept by a failed run for
  ``--resume``) and its error report go; the job row keeps the counts and warnings;
* any other file under ``IMPORT_DIR`` untouched since the cut-off and named by no job (left by a
  crash between upload and job): it goes. Running imports are never touched.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.db.models import Q

from registry.models import ImportJob, ImportJobStatus


def _remove(root: Path, name: str, dry_run: bool) -> int:
    path = root / name
    if not name or not path.is_file():
        return 0
    if not dry_run:
        path.unlink(missing_ok=True)
    return 1


def purge_files(cutoff: dt.datetime, *, dry_run: bool = False) -> int:
    """Delete (or, with ``dry_run``, count) the import files past the cut-off; returns the count."""
    root = Path(settings.IMPORT_DIR)
    removed = 0
    for preview in ImportJob.objects.filter(dry_run=True, created_at__lt=cutoff):
        removed += _remove(root, preview.stored_name, dry_run) + _remove(root, preview.report_name, dry_run)
        if not dry_run:
            preview.delete()
    over = ImportJob.objects.filter(dry_run=False, finished_at__lt=cutoff).exclude(status=ImportJobStatus.RUNNING)
    for job in over.exclude(stored_name="", report_name=""):
        removed += _remove(root, job.stored_name, dry_run) + _remove(root, job.report_name, dry_run)
        if not dry_run:
            job.stored_name = job.report_name = ""
            job.save(update_fields=["stored_name", "report_name"])
    if root.is_dir():
        named = {n for pair in ImportJob.objects.filter(~Q(stored_name="") | ~Q(report_name=""))
                 .values_list("stored_name", "report_name") for n in pair if n}
        for path in root.iterdir():
            stale = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) < cutoff
            if path.is_file() and stale and path.name not in named:
                removed += _remove(root, path.name, dry_run)
    return removed
