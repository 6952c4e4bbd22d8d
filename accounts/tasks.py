"""Celery tasks of the accounts app. Thin: they call a service."""

from __future__ import annotations

from celery import shared_task

from accounts import read_alerts


@shared_task(name="accounts.evaluate_read_volume", ignore_result=True)
def evaluate_read_volume() -> int:
    """Beat task (settings.CELERY_BEAT_SCHEDULE): alert on users reading too many people per hour."""
    return read_alerts.evaluate_read_volume()
