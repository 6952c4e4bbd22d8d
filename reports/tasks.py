"""Celery tasks of the reports app. Thin (DESIGN.md rule 7): ids in, a service call, a record
(the ``ReportRun``) left behind; overlap is guarded inside ``generation.execute``."""

from __future__ import annotations

from celery import shared_task

from reports import generation, services

SCHEDULED_TASK = "reports.run_scheduled"


@shared_task(name=generation.GENERATE_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def generate(*, run_id: str, outbox_id: str | None = None) -> str:
    """Build one requested report (published by the outbox; a redelivery is a no-op)."""
    return generation.execute(run_id, outbox_id=outbox_id)


@shared_task(name=SCHEDULED_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_scheduled(*, kind: str) -> str:
    """Beat: the kind's last complete period (django-celery-beat, editable by admins)."""
    return str(services.run_scheduled(kind).pk)
