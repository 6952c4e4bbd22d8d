"""Retention of bulk-import files (plaintext under IMPORT_DIR): previews, failed runs' uploads,
error reports and stray files go after RETENTION_IMPORT_FILES_DAYS; running imports, recent
files and every other retention class are untouched (SECURITY.md DP-4)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from privacy import retention
from registry.models import ImportJob, ImportJobStatus

pytestmark = pytest.mark.django_db

NEVER = 100_000


@pytest.fixture
def import_dir(settings, tmp_path):
    for setting in retention.CLASSES.values():
        setattr(settings, setting, NEVER)
    settings.RETENTION_IMPORT_FILES_DAYS = 7
    settings.IMPORT_DIR = tmp_path / "imports"
    settings.IMPORT_DIR.mkdir()
    return settings.IMPORT_DIR


def _file(root: Path, name: str, days_old: float) -> Path:
    path = root / name
    path.write_text("given_names,first_surname\nAna,López\n", encoding="utf-8")
    stamp = (timezone.now() - dt.timedelta(days=days_old)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _job(user, days_old: float, **fields) -> ImportJob:
    job = ImportJob.objects.create(sha256=os.urandom(32).hex(), file_format="csv", created_by=user, **fields)
    when = timezone.now() - dt.timedelta(days=days_old)
    ImportJob.objects.filter(pk=job.pk).update(created_at=when, finished_at=when if job.finished_at else None)
    job.refresh_from_db()
    return job


def test_import_files_class(import_dir, make_user):
    user = make_user("supervisor")
    old_preview = _job(user, 8, dry_run=True, status=ImportJobStatus.PREVIEWED, stored_name="p-old.csv",
                       finished_at=timezone.now())
    new_preview = _job(user, 6, dry_run=True, status=ImportJobStatus.PREVIEWED, stored_name="p-new.csv",
                       finished_at=timezone.now())
    failed = _job(user, 8, status=ImportJobStatus.FAILED, stored_name="f-upload.csv", report_name="f-report.csv",
                  finished_at=timezone.now(), imported=3, failed=1)
    running = _job(user, 30, status=ImportJobStatus.RUNNING, stored_name="r-upload.csv", report_name="r-report.csv")
    for name in ("p-old.csv", "f-upload.csv", "f-report.csv", "r-upload.csv", "r-report.csv"):
        _file(import_dir, name, 8)
    _file(import_dir, "p-new.csv", 6)
    _file(import_dir, "stray-old.csv", 8)
    _file(import_dir, "stray-new.csv", 1)

    dry = retention.purge(dry_run=True)
    assert dry.counts["import_files"] == 4 and len(list(import_dir.iterdir())) == 8

    run = retention.purge()
    assert run.counts["import_files"] == 4
    assert sorted(p.name for p in import_dir.iterdir()) == [
        "p-new.csv", "r-report.csv", "r-upload.csv", "stray-new.csv"]
    assert not ImportJob.objects.filter(pk=old_preview.pk).exists()
    assert ImportJob.objects.filter(pk=new_preview.pk, stored_name="p-new.csv").exists()
    failed.refresh_from_db()
    assert (failed.stored_name, failed.report_name, failed.imported, failed.failed) == ("", "", 3, 1)
    running.refresh_from_db()
    assert (running.stored_name, running.report_name) == ("r-upload.csv", "r-report.csv")
    assert {k: v for k, v in run.counts.items() if k != "import_files" and v} == {}
    assert retention.purge().counts["import_files"] == 0  # nothing left to do
