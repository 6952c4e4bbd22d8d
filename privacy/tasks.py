"""Celery tasks of the privacy app. Thin: they call ``privacy.outbox``."""

from __future__ import annotations

from celery import shared_task

from privacy import outbox


@shared_task(name="privacy.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Beat task (settings.CELERY_BEAT_SCHEDULE): publish pending outbox messages."""
    return outbox.relay()


@shared_task(name="privacy.noop_consumer", ignore_result=True)
def noop_consumer(*, outbox_id: str) -> bool:
    """A probe for the outbox pipeline; it does nothing but be consumed exactly once.

    Enqueue it (``outbox.enqueue("privacy.noop_consumer")``) to check end to end that the relay
    publishes and a worker consumes: its only effect is the ``ConsumedMessage`` row. Returns
    True the first time a message is consumed and False on a redelivery.
    """
    with outbox.consume_once(outbox_id, "privacy.noop_consumer") as first_time:
        return first_time


@shared_task(name="privacy.retention_purge", ignore_result=True)
def retention_purge(*, dry_run: bool = False) -> dict:
    """Beat task (daily): purge every data class past its retention period; returns the counts."""
    from privacy import retention

    return retention.purge(dry_run=dry_run).counts
