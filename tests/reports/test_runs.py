"""Runs: idempotent by fingerprint, guarded against overlap, poison-safe, purged; the command,
the schedules and the request limit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from privacy.models import OutboxMessage
from reports import generation, services
from reports.models import ReportFile, ReportRequest, ReportRun, ReportStatus
from reports.params import ReportParams, validate
from reports.schedules import SCHEDULES, sync_schedules
from tests.reports.conftest import DAY1, DAY2, MX, record


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def params(formats=("csv", "hxl"), **kwargs) -> ReportParams:
    return ReportParams(**{"date_from": DAY1, "date_to": DAY2, "formats": formats, "language": "en", **kwargs})


def test_request_queues_once_and_identical_requests_share_the_run(dataset, analyst, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.request_report(analyst, "daily_flows", params())
    first.refresh_from_db()
    assert first.status == ReportStatus.DONE and first.progress == 100
    assert first.files.count() == 2
    hashes = sorted(first.files.values_list("sha256", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        again = services.request_report(analyst, "daily_flows", params())
    assert again.pk == first.pk
    assert ReportRun.objects.count() == 1 and ReportFile.objects.count() == 2
    assert sorted(again.files.values_list("sha256", flat=True)) == hashes
    assert OutboxMessage.objects.filter(task_name="reports.generate").count() == 1
    assert ReportRequest.objects.filter(user=analyst).count() == 2


def test_new_data_makes_a_new_run(dataset, analyst, recorder, place_a):
    first = services.run_now("daily_flows", params())
    record(recorder, place_a, at=dt.datetime(2026, 3, 3, 15, tzinfo=MX), direction="north",
           head_count={"m_18_59": 11, "nationality": "GT"})
    second = services.run_now("daily_flows", params())
    assert second.pk != first.pk and second.data_version != first.data_version
    assert second.fingerprint != first.fingerprint


def test_executing_a_finished_run_again_changes_nothing(dataset):
    run = services.run_now("daily_flows", params())
    names = sorted(run.files.values_list("storage_name", flat=True))
    assert generation.execute(run.pk) == "skipped"
    assert sorted(run.files.values_list("storage_name", flat=True)) == names
    assert sorted(default_storage.listdir(f"reports/{run.pk}")[1]) == sorted(n.rsplit("/", 1)[1] for n in names)
    run.refresh_from_db()
    assert run.deliveries == 1


def test_a_rerun_after_an_interrupted_attempt_leaves_one_set_of_files(dataset):
    run = services.run_now("daily_flows", params())
    ReportRun.objects.filter(pk=run.pk).update(status=ReportStatus.RUNNING, progress=60)  # as if killed
    default_storage.save(f"reports/{run.pk}/leftover.part", __import__("io").BytesIO(b"half"))
    assert generation.execute(run.pk) == "done"
    run.refresh_from_db()
    assert run.status == ReportStatus.DONE and run.files.count() == 2 and run.deliveries == 2
    assert "leftover.part" not in default_storage.listdir(f"reports/{run.pk}")[1]


@pytest.mark.django_db(transaction=True)
def test_overlap_guard_a_running_run_is_not_started_twice(dataset):
    run = ReportRun.objects.create(kind="daily_flows", parameters=params().as_json(), data_version="x", fingerprint="f" * 64)
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        with generation.run_lock(run.pk) as acquired:
            assert acquired
            held.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    assert held.wait(10)
    try:
        assert generation.execute(run.pk) == "busy"
        run.refresh_from_db()
        assert run.status == ReportStatus.QUEUED and run.deliveries == 0
    finally:
        release.set()
        thread.join()
    assert generation.execute(run.pk) == "done"


def test_the_fingerprint_is_unique_among_live_runs(db):
    from django.db import IntegrityError, transaction

    ReportRun.objects.create(kind="daily_flows", data_version="v", fingerprint="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRun.objects.create(kind="daily_flows", data_version="v", fingerprint="a" * 64)
    ReportRun.objects.filter(fingerprint="a" * 64).update(status=ReportStatus.FAILED)
    ReportRun.objects.create(kind="daily_flows", data_version="v", fingerprint="a" * 64)  # a retry may follow a failure


def test_a_poison_run_fails_after_the_delivery_limit(dataset, settings):
    settings.REPORT_MAX_DELIVERIES = 3
    run = ReportRun.objects.create(kind="daily_flows", parameters=params().as_json(), data_version="x",
                                   fingerprint="b" * 64, status=ReportStatus.RUNNING, deliveries=3)
    assert generation.execute(run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == ReportStatus.FAILED and run.error_class == "reports.DeliveryLimitExceeded"
    assert not run.files.exists()


def test_a_failure_keeps_the_class_and_a_safe_message(dataset, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("Zacarías Canario broke it")

    monkeypatch.setattr(generation, "build_table", boom)
    run = services.run_now("daily_flows", params())
    assert run.status == ReportStatus.FAILED and run.error_class == "builtins.RuntimeError"
    assert "Canario" not in run.error_message and run.error_message


def test_purge_removes_old_runs_and_their_files(dataset, settings):
    settings.REPORT_RETENTION_DAYS = 90
    old = services.run_now("daily_flows", params())
    fresh = services.run_now("daily_flows", params(formats=("csv",)))
    ReportRun.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=91))
    assert services.purge_expired() == 1
    assert not ReportRun.objects.filter(pk=old.pk).exists() and ReportRun.objects.filter(pk=fresh.pk).exists()
    assert default_storage.listdir(f"reports/{old.pk}")[1] == []


# --- command ---------------------------------------------------------------------------------


def test_run_report_command_prints_the_run_and_files(dataset, capsys):
    call_command("run_report", "weekly_summary", "--from", "2026-03-02", "--to", "2026-03-08", "--format", "csv,hxl")
    out = capsys.readouterr().out
    run = ReportRun.objects.get()
    assert f"run {run.pk} done" in out and "weekly_summary_20260302_20260308.hxl.csv" in out


@pytest.mark.parametrize(("args", "option"), [
    (["daily_flows", "--from", "2026-03-05", "--to", "2026-03-01"], "--to"),
    (["daily_flows", "--from", "2024-01-01", "--to", "2026-03-01"], "--to"),
    (["daily_flows", "--from", "2026-03-01", "--to", "2026-03-02", "--place", "NOPE-99"], "--place"),
    (["registrations", "--from", "2026-03-01", "--to", "2026-03-02", "--format", "hxl"], "--format"),
    (["nonsense", "--from", "2026-03-01", "--to", "2026-03-02"], "KIND"),
    (["daily_flows", "--from", "yesterday", "--to", "2026-03-02"], "--from"),
])
def test_run_report_command_names_the_bad_option(db, args, option):
    with pytest.raises(CommandError, match=f"^{option}"):
        call_command("run_report", *args)
    assert not ReportRun.objects.exists()


def test_validation_refuses_a_kind_the_user_may_not_run(analyst):
    with pytest.raises(ValidationError) as caught:
        validate(analyst, "overstays", date_from=DAY1, date_to=DAY2, formats=["csv"])
    assert "kind" in caught.value.message_dict


# --- schedules and limits ----------------------------------------------------------------------


def test_schedules_are_synced_once_and_admin_edits_survive(db):
    assert PeriodicTask.objects.filter(name__startswith="reports:").count() == len(SCHEDULES)  # post_migrate
    daily = PeriodicTask.objects.get(name="reports: daily flows")
    assert (daily.crontab.hour, daily.crontab.minute, str(daily.crontab.timezone)) == ("6", "0", "America/Mexico_City")
    assert PeriodicTask.objects.get(name="reports: weekly summary").crontab.day_of_week == "1"
    assert PeriodicTask.objects.get(name="reports: monthly statistics").crontab.day_of_month == "1"
    daily.enabled = False
    daily.save()
    assert sync_schedules() == 0
    assert PeriodicTask.objects.get(name="reports: daily flows").enabled is False


@pytest.mark.parametrize(("schedule", "expected"), [
    ("daily", (dt.date(2026, 3, 3), dt.date(2026, 3, 3))),
    ("weekly", (dt.date(2026, 2, 23), dt.date(2026, 3, 1))),
    ("monthly", (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
])
def test_scheduled_periods(schedule, expected):
    assert services.scheduled_period(schedule, dt.date(2026, 3, 4)) == expected


def test_a_scheduled_run_builds_every_format(dataset):
    run = services.run_scheduled("daily_flows", today=dt.date(2026, 3, 3))
    assert run.status == ReportStatus.DONE and run.trigger == "schedule" and run.requested_by is None
    assert sorted(run.files.values_list("format", flat=True)) == ["csv", "hxl", "pdf", "xlsx"]


def test_request_limit_per_user_and_day(dataset, analyst, settings):
    settings.REPORTS_PER_USER_PER_DAY = 2
    services.request_report(analyst, "daily_flows", params())
    services.request_report(analyst, "daily_flows", params(formats=("csv",)))
    with translation.override("en"), pytest.raises(ValidationError, match="daily limit"):
        services.request_report(analyst, "weekly_summary", params())
    assert ReportRun.objects.count() == 2
