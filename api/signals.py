"""Receivers that queue webhook notices in the transaction of the change (never bare delay())."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from api import webhooks
from registry.models import Person
from reports.generation import run_finished
from transit.models import TransitEvent


@receiver(post_save, sender=TransitEvent, dispatch_uid="api.webhook_event_created")
def event_created(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        webhooks.notify_event_created(instance)

@receiver(post_save, sender=Person, dispatch_uid="api.webhook_person_status")
def person_status(sender, instance, created, raw=False, **kwargs) -> None:
    if not created and not raw and instance.status in ("merged", "erased"):
        webhooks.notify_person_status(instance)

@receiver(run_finished, dispatch_uid="api.webhook_report_finished")
def report_finished(sender, run, **kwargs) -> None:
    webhooks.notify_report_finished(run)
