"""Transactional outbox: Celery work is recorded with the data and published afterwards.

* ``enqueue`` writes an ``OutboxMessage`` in the caller's transaction: if the transaction rolls
  back, the task was never asked for; if it commits, the task will be published eventually,
  even when the broker is down at that moment (SECURITY.md RL-1).
* ``relay`` publishes pending rows. Publishing happens inside a short transaction that locks the
  rows (``SKIP LOCKED`` where supported) so two relays never publish the same row together. A
  crash between publishing and commit publishes again later: delivery is *at least once*.
* ``consume_once`` turns at-least-once into exactly-once *effects*: the consumer's work and a
  ``ConsumedMessage`` row commit together, and a redelivered message finds the row and does
  nothing.

Embedded default (no broker, ``CELERY_TASK_ALWAYS_EAGER``): ``enqueue`` schedules ``relay`` on
commit and ``relay`` runs the registered task in-process, so the same code path does the work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from kombu.exceptions import KombuError

from config.celery import app as celery_app
from privacy.models import ConsumedMessage, OutboxMessage

logger = structlog.get_logger(__name__)

# Broker trouble stops the whole relay run (the next run retries); OSError covers
# ConnectionError, TimeoutError and socket errors raised before kombu can wrap them.
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuError, OSError)
MAX_BATCHES_PER_RUN = 50
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600


class LocalTaskError(Exception):
    """An in-process (eager) task failed; never mistaken for the broker being down."""


def enqueue(
    task_name: str, kwargs: dict[str, Any] | None = None, *, dedup_key: str | None = None
) -> OutboxMessage:
    """Record ``task_name(**kwargs)`` for publication when the current transaction commits.

    Must be called inside ``transaction.atomic()`` (requests are atomic). ``kwargs`` hold ids,
    never personal data. With ``dedup_key``, a second enqueue with the same key returns the
    existing message instead of adding one.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("outbox.enqueue() must run inside transaction.atomic()")
    message = _insert(task_name, dict(kwargs or {}), dedup_key)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # robust: a failing in-process task must not turn a committed request into a 500.
        transaction.on_commit(relay, robust=True)
    return message


def _insert(task_name: str, kwargs: dict[str, Any], dedup_key: str | None) -> OutboxMessage:
    message = OutboxMessage(task_name=task_name, kwargs=kwargs, dedup_key=dedup_key or None)
    if message.dedup_key is None:
        message.save(force_insert=True)
        return message
    try:
        with (
            transaction.atomic()
        ):  # savepoint: a duplicate key must not poison the caller's transaction
            message.save(force_insert=True)
    except IntegrityError:
        return OutboxMessage.objects.get(dedup_key=message.dedup_key)
    return message


def relay(batch_size: int = 100) -> int:
    """Publish pending messages; returns how many were published.

    Never raises for broker trouble: the failing message's ``attempts`` and ``last_error``
    (the error class only) are recorded and the run stops, to be retried by the next run.
    """
    published = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        sent, seen, broker_down = _relay_batch(batch_size)
        published += sent
        if broker_down or seen < batch_size:
            break
    return published


def _pending_batch(batch_size: int) -> list[OutboxMessage]:
    queryset = OutboxMessage.objects.filter(
        published_at__isnull=True, available_at__lte=timezone.now()
    ).order_by("created_at")
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)
    else:
        queryset = (
            queryset.select_for_update()
        )  # a no-op on SQLite, which serialises writers anyway
    return list(queryset[:batch_size])


def _relay_batch(batch_size: int) -> tuple[int, int, bool]:
    """One locked batch: returns (published, rows seen, broker failed)."""
    with transaction.atomic():
        messages = _pending_batch(batch_size)
        if not messages:
            return 0, 0, False
        try:
            with _publisher() as publish:
                return _publish_all(messages, publish), len(messages), False
        except BROKER_ERRORS as exc:
            _record_failure(_first_unpublished(messages), exc, backoff=False)
            logger.warning("outbox.broker_unavailable", error=type(exc).__name__)
            return sum(1 for m in messages if m.published_at), len(messages), True


def _publish_all(messages: list[OutboxMessage], publish: Callable[[OutboxMessage], None]) -> int:
    sent = 0
    for message in messages:
        try:
            publish(message)
        except BROKER_ERRORS:
            raise
        except (
            Exception
        ) as exc:  # a bad message (unknown task, failing eager task) must not block the rest
            _record_failure(message, exc, backoff=True)
            logger.warning(
                "outbox.publish_failed", task=message.task_name, error=type(exc).__name__
            )
            continue
        message.published_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["published_at", "attempts"])
        sent += 1
    return sent


def _first_unpublished(messages: list[OutboxMessage]) -> OutboxMessage:
    return next(m for m in messages if m.published_at is None)


def _record_failure(message: OutboxMessage, exc: BaseException, *, backoff: bool) -> None:
    """Count the attempt and keep the error *class* (messages could echo the payload)."""
    if isinstance(exc, LocalTaskError) and exc.__cause__ is not None:
        exc = exc.__cause__
    message.attempts += 1
    message.last_error = f"{type(exc).__module__}.{type(exc).__qualname__}"[:200]
    fields = ["attempts", "last_error"]
    if backoff:
        delay = min(RETRY_BASE_SECONDS * 2 ** (message.attempts - 1), RETRY_MAX_SECONDS)
        message.available_at = timezone.now() + timedelta(seconds=delay)
        fields.append("available_at")
    message.save(update_fields=fields)


def _task_kwargs(message: OutboxMessage) -> dict[str, Any]:
    return {**message.kwargs, "outbox_id": str(message.id)}


@contextmanager
def _publisher() -> Iterator[Callable[[OutboxMessage], None]]:
    """A publish function: local execution when eager, else one broker connection per batch."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield _run_locally
        return
    with celery_app.connection_for_write() as conn:
        # One attempt, bounded by broker_connection_timeout: never kombu's retry-forever default.
        conn.ensure_connection(max_retries=0)

        def _send(message: OutboxMessage) -> None:
            celery_app.send_task(
                message.task_name,
                kwargs=_task_kwargs(message),
                task_id=str(message.id),
                connection=conn,
                retry=False,
            )

        yield _send


def _run_locally(message: OutboxMessage) -> None:
    """Embedded default: run the registered task here, in its own savepoint."""
    if message.task_name not in celery_app.tasks:
        celery_app.loader.import_default_modules()  # autodiscover the apps' tasks modules
    try:
        task = celery_app.tasks[message.task_name]
        with transaction.atomic():
            task.apply(kwargs=_task_kwargs(message), task_id=str(message.id), throw=True)
    except Exception as exc:
        raise LocalTaskError(message.task_name) from exc


@contextmanager
def consume_once(outbox_id: str | uuid.UUID, task_name: str = "") -> Iterator[bool]:
    """Run a consumer's work at most once per outbox message.

    Usage::

        with consume_once(outbox_id, "registry.scan_duplicates") as first_time:
            if first_time:
                do_the_work()

    The block runs in a transaction together with the ``ConsumedMessage`` insert; if the block
    raises, both roll back and a retry will run it again. A redelivery gets ``False``.
    """
    message_id = uuid.UUID(str(outbox_id))
    with transaction.atomic():
        try:
            with transaction.atomic():
                ConsumedMessage.objects.create(message_id=message_id, task_name=task_name)
            first_time = True
        except IntegrityError:
            first_time = False
        yield first_time
