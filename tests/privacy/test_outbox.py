"""Outbox in the embedded (eager) mode: enqueue, relay, idempotent consumers."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from privacy import outbox
from privacy.models import ConsumedMessage, OutboxMessage
from privacy.tasks import noop_consumer
from tests.privacy import tasks as test_tasks


@pytest.fixture(autouse=True)
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_enqueue_then_commit_runs_the_task_once(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = outbox.enqueue("tests.privacy.count_effect")
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.published_at is not None and message.attempts == 1
    assert test_tasks.EFFECTS[str(message.id)] == 1
    assert outbox.relay() == 0  # second relay: nothing left
    assert test_tasks.CALLS[str(message.id)] == 1


def test_noop_consumer_redelivery_is_a_noop(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.enqueue("privacy.noop_consumer")
    assert (
        ConsumedMessage.objects.filter(
            message_id=message.id, task_name="privacy.noop_consumer"
        ).count()
        == 1
    )
    assert noop_consumer.apply(kwargs={"outbox_id": str(message.id)}).get() is False
    assert ConsumedMessage.objects.count() == 1


def test_rolled_back_transaction_leaves_no_message(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.enqueue("tests.privacy.count_effect")
        raise RuntimeError("registration failed")
    assert OutboxMessage.objects.count() == 0 and callbacks == []


def test_dedup_key_keeps_one_message(db):
    with transaction.atomic():
        first = outbox.enqueue("privacy.noop_consumer", dedup_key="dup:1")
        second = outbox.enqueue("privacy.noop_consumer", {"x": 1}, dedup_key="dup:1")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


def test_failing_task_is_backed_off_and_does_not_block_others(db):
    with transaction.atomic():
        bad = outbox.enqueue("privacy.no_such_task")
        good = outbox.enqueue("privacy.noop_consumer")
    assert outbox.relay() == 1
    bad.refresh_from_db()
    good.refresh_from_db()
    assert good.published_at is not None
    assert bad.published_at is None and bad.attempts == 1
    assert bad.last_error.endswith("NotRegistered") and "no_such_task" not in bad.last_error
    assert bad.available_at > timezone.now()
    assert outbox.relay() == 0  # backed off, not retried in a hot loop


def test_consume_once_rolls_back_with_the_work(db):
    outbox_id = uuid.uuid4()
    with pytest.raises(ZeroDivisionError), outbox.consume_once(outbox_id) as first_time:
        assert first_time is True
        1 / 0  # noqa: B018 - the work fails
    assert not ConsumedMessage.objects.filter(message_id=outbox_id).exists()
    with outbox.consume_once(outbox_id) as first_time:
        assert first_time is True
    with outbox.consume_once(outbox_id) as first_time:
        assert first_time is False


def test_relay_publishes_in_batches(db):
    with transaction.atomic():
        for _ in range(5):
            outbox.enqueue("privacy.noop_consumer")
    assert outbox.relay(batch_size=2) == 5
    assert ConsumedMessage.objects.count() == 5


def test_enqueue_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(TransactionManagementError):
        outbox.enqueue("privacy.noop_consumer")
    assert OutboxMessage.objects.count() == 0


def test_relay_command_reports(db, capsys):
    from django.core.management import call_command

    with transaction.atomic():
        outbox.enqueue("privacy.noop_consumer")
    call_command("relay_outbox")
    assert "Published 1 message(s); 0 still pending." in capsys.readouterr().out
