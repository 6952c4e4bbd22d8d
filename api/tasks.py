"""Celery tasks of the API. Thin: they call ``api.webhooks``."""

from __future__ import annotations

from celery import shared_task

from api import webhooks
from privacy import outbox


@shared_task(
    name="api.deliver_webhook", ignore_result=True, autoretry_for=(webhooks.WebhookDeliveryError,),
    retry_backoff=30, retry_backoff_max=3600, max_retries=10,
)
def deliver_webhook(*, endpoint_id: str, event_type: str, object_id: str, msg_id: str, outbox_id: str) -> bool:
    """Deliver one signed notice once; a failure raises and is retried with backoff."""
    with outbox.consume_once(outbox_id, "api.deliver_webhook") as first_time:
        if first_time:
            webhooks.deliver(endpoint_id, event_type, object_id, msg_id)
        return first_time
