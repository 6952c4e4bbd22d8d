"""RL-1 with real services: a registration commits with Redis down; later exactly one effect."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from accounts.models import Agency
from config.celery import app as celery_app
from privacy import outbox
from privacy.models import ConsumedMessage, OutboxMessage
from tests.privacy import tasks as test_tasks


def _reset_broker_pools() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def live_broker(settings, redis_server):
    """Point Django settings and the Celery app at the private Redis, non-eager."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.broker_url = redis_server.url
    celery_app.conf.task_always_eager = False
    _reset_broker_pools()
    yield redis_server
    celery_app.conf.update(saved)
    _reset_broker_pools()


def _wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.worker
def test_broker_outage_does_not_block_registration_and_effect_happens_once(
    transactional_db, live_broker
):
    live_broker.stop()

    started = time.monotonic()
    with transaction.atomic():  # a registration: its data and its task commit together
        Agency.objects.create(code="outage-test", name="Albergue", kind="shelter", country="MX")
        message = outbox.enqueue("tests.privacy.count_effect", {"close_connection": True})
    assert time.monotonic() - started < 2
    assert Agency.objects.filter(code="outage-test").exists()

    started = time.monotonic()
    assert outbox.relay() == 0  # broker down: reported, not raised
    assert time.monotonic() - started < 5
    message.refresh_from_db()
    assert message.published_at is None and message.attempts == 1
    assert message.last_error == "kombu.exceptions.OperationalError"

    live_broker.start()
    assert outbox.relay() == 1
    message.refresh_from_db()
    assert message.published_at is not None and message.attempts == 2

    key = str(message.id)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert _wait_for(lambda: test_tasks.CALLS[key] == 1)
        assert outbox.relay() == 0  # a second relay publishes nothing
        # A broker redelivery of the same message (same task id) must not repeat the effect.
        celery_app.send_task(
            "tests.privacy.count_effect",
            kwargs={"outbox_id": key, "close_connection": True},
            task_id=key,
        )
        assert _wait_for(lambda: test_tasks.CALLS[key] == 2)

    assert test_tasks.EFFECTS[key] == 1
    assert ConsumedMessage.objects.filter(message_id=message.id).count() == 1
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 0
