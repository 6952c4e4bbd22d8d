"""RL-2 through a real Celery worker (a subprocess) and a private Redis broker.

* end to end: web request → outbox → relay → Redis → worker → progress → done → download;
* kill: SIGKILL the worker at ~50 %, start another: exactly one finished run, one set of files,
  status done, progress never went down;
* poison: a run whose every delivery dies is marked failed after REPORT_MAX_DELIVERIES.

The worker runs ``celery -A config worker --pool=solo --concurrency=1`` with DATABASE_URL on
pytest-django's test database (data committed: ``transaction=True``), a 2 s visibility timeout
and REPORT_CHUNK_DELAY so a run is slow enough to interrupt.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from config.celery import app as celery_app
from privacy import outbox
from reports.models import ReportRun, ReportStatus
from tests.privacy.conftest import RedisServer

VISIBILITY = 2
FORM = {"kind": "daily_flows", "date_from": "2026-03-02", "date_to": "2026-03-03", "grouping": "place",
        "formats": ["csv", "xlsx", "pdf", "hxl"]}


def _reset_pools() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(settings):
    server = RedisServer()
    server.start()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.update(broker_url=server.url, task_always_eager=False)
    _reset_pools()
    yield server
    celery_app.conf.update(saved)
    _reset_pools()
    server.stop()


class Worker:
    """``celery worker`` in a subprocess on the test database."""

    def __init__(self, broker_url: str, media_root, log_path, delay: float) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
            "REPORT_CHUNK_DELAY": str(delay), "MEDIA_ROOT": str(media_root), "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "0",
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                   "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


@pytest.fixture
def worker(broker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    made: list[Worker] = []

    def _make(delay: float = 0.0) -> Worker:
        made.append(Worker(broker.url, settings.MEDIA_ROOT, tmp_path / "worker.log", delay))
        return made[-1]

    yield _make
    for item in made:
        item.stop()


def wait_for(condition, timeout: float = 30.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def _run() -> ReportRun:
    return ReportRun.objects.get()


def _request(client) -> ReportRun:
    assert client.post(reverse("reports:request"), FORM).status_code == 302
    assert outbox.relay() == 1  # the beat task does this every few seconds
    return _run()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_request_progress_done_download_through_a_real_worker(dataset, analyst, login, worker):
    client = login(analyst)
    run = _request(client)
    assert run.status == ReportStatus.QUEUED
    process = worker(delay=0.3)
    process.start()
    seen = []
    wait_for(lambda: seen.append(_run().progress) or _run().status == ReportStatus.DONE, timeout=45)
    assert any(0 < p < 100 for p in seen) and seen == sorted(seen)
    page = client.get(reverse("reports:list")).content.decode()
    assert 'data-status="done"' in page
    response = client.get(reverse("reports:download", args=[run.pk, "csv"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    with translation.override(analyst.preferred_language):  # labels in the requester's language
        assert content.startswith(f"{gettext('Date')},{gettext('Place code')},")
    assert content.rstrip().endswith(",38,10,0,48")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sigkill_at_half_way_gives_one_finished_run(dataset, analyst, login, worker):
    run = _request(login(analyst))
    first = worker(delay=1.2)
    first.start()
    progress = [wait_for(lambda: _run().progress if _run().progress >= 45 else 0, timeout=40, step=0.05)]
    first.kill()
    killed_at = _run()
    assert killed_at.status == ReportStatus.RUNNING and 45 <= killed_at.progress < 100
    assert not killed_at.files.exists()
    time.sleep(VISIBILITY + 0.5)  # the unacknowledged message becomes visible again
    second = worker(delay=0.2)
    second.start()

    def done():
        current = _run()
        progress.append(current.progress)
        return current.status == ReportStatus.DONE

    wait_for(done, timeout=45)
    final = _run()
    assert ReportRun.objects.count() == 1 and final.pk == run.pk
    assert final.deliveries == 2 and final.progress == 100
    assert progress == sorted(progress)  # monotonic across the restart
    assert sorted(final.files.values_list("format", flat=True)) == ["csv", "hxl", "pdf", "xlsx"]
    stored = default_storage.listdir(f"reports/{final.pk}")[1]
    assert sorted(stored) == sorted(f.filename for f in final.files.all())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_poison_run_is_failed_after_n_deliveries(dataset, analyst, login, worker, settings):
    """Every delivery dies (the worker is killed as soon as the run starts); after
    REPORT_MAX_DELIVERIES (3) the next delivery marks the run failed and acknowledges it."""
    _request(login(analyst))
    for attempt in range(1, 4):
        process = worker(delay=1.0)
        process.start()
        wait_for(lambda n=attempt: _run().deliveries >= n, timeout=30, step=0.05)
        process.kill()
        time.sleep(VISIBILITY + 0.5)
    last = worker(delay=1.0)
    last.start()
    wait_for(lambda: _run().status == ReportStatus.FAILED, timeout=30)
    failed = _run()
    assert failed.error_class == "reports.DeliveryLimitExceeded" and failed.deliveries == 4
    assert not failed.files.exists()
