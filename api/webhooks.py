"""Signed webhooks to partners (Standard Webhooks): new events at their places, merges, erasures,
finished report runs.

Who gets what: agreements in force with the ``webhooks`` scope and an active
``WebhookEndpoint``. A new transit event goes to agreements that may see it
(``TransitEvent.objects.visible_to_agreement``); a merge or an erasure goes to agencies that were
shown the person (they hold its pseudonym); a report run that finished (done or failed) goes to
agreements that may see it (``ReportRun.objects.visible_to_agreement``: runs their agency's
clients asked for, over places they cover), so partners need not poll. Each notice is an outbox row
(``privacy.outbox.enqueue("api.deliver_webhook", ...)``) written in the same transaction as the
change; ``deliver`` builds the body at delivery time (ids and pseudonyms only, never names),
signs it (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) and POSTs it. A failure
raises, so the outbox (eager mode) or Celery (broker mode) retries with exponential backoff.

Only https URLs are accepted; ``API_WEBHOOK_ALLOW_LOCAL_HTTP`` (DEBUG, tests) also allows
http://127.0.0.1. The URL is the partner's registered endpoint: nothing fetches arbitrary URLs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import urllib.request
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.agreements import Scope, pseudonyms_for
from accounts.models import DataSharingAgreement
from api.models import WebhookEndpoint
from privacy import outbox

TASK = "api.deliver_webhook"
EVENT_CREATED = "transit_event.created"
PERSON_MERGED = "person.merged"
PERSON_ERASED = "person.erased"
REPORT_FINISHED = "report_run.finished"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: never follow a partner's server somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class WebhookDeliveryError(Exception):
    """The partner's endpoint did not accept the delivery; it will be retried."""


def url_allowed(url: str) -> bool:
    """https anywhere; http only to the loopback and only when the setting allows it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return bool(
        parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and settings.API_WEBHOOK_ALLOW_LOCAL_HTTP
    )


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _endpoints():
    """Active endpoints of agreements in force that grant ``webhooks``. The scope test runs in
    Python over the (small) agreements table: JSON ``contains`` does not exist on SQLite, and
    every transit event saved in the embedded default passes through here."""
    agreements = [a.pk for a in DataSharingAgreement.objects.in_force().only("pk", "scopes") if a.has_scope(Scope.WEBHOOKS)]
    return WebhookEndpoint.objects.filter(is_active=True, agreement__in=agreements).select_related("agreement")


def notify_event_created(event) -> None:
    """Queue a notice of a new event for every agreement that may see it."""
    from transit.models import TransitEvent

    for endpoint in _endpoints():
        if TransitEvent.objects.visible_to_agreement(endpoint.agreement).filter(pk=event.pk).exists():
            _enqueue(endpoint, EVENT_CREATED, event.pk)


def notify_person_status(person) -> None:
    """Queue a merge or erasure notice for agencies that were shown this person."""
    event_type = {"merged": PERSON_MERGED, "erased": PERSON_ERASED}.get(person.status)
    if event_type is None:
        return
    agencies = person.partner_pseudonyms.values("agency_id")
    for endpoint in _endpoints().filter(agreement__agency_id__in=agencies):
        _enqueue(endpoint, event_type, person.pk)


def notify_report_finished(run) -> None:
    """Queue a notice of a finished report run for every agreement that may see it."""
    from reports.models import ReportRun

    if not run.finished:
        return
    for endpoint in _endpoints():
        if ReportRun.objects.visible_to_agreement(endpoint.agreement).filter(pk=run.pk).exists():
            _enqueue(endpoint, REPORT_FINISHED, run.pk)


def _enqueue(endpoint: WebhookEndpoint, event_type: str, object_id) -> None:
    kwargs = {"endpoint_id": str(endpoint.pk), "event_type": event_type, "object_id": str(object_id),
              "msg_id": f"msg_{uuid.uuid4().hex}"}
    outbox.enqueue(TASK, kwargs, dedup_key=f"wh:{endpoint.pk}:{event_type}:{object_id}")


def payload(endpoint: WebhookEndpoint, event_type: str, object_id: str) -> dict:
    """The body of a notice: the type, a time and ids as this agency knows them."""
    agency_id = endpoint.agreement.agency_id
    data: dict = {}
    if event_type == EVENT_CREATED:
        from transit.models import TransitEvent

        event = TransitEvent.objects.select_related("place").get(pk=object_id)
        data = {"id": str(event.pk), "place": event.place.code, "kind": event.kind,
                "occurred_at": event.occurred_at.isoformat(), "person": None}
        if event.person_id:
            data["person"] = _ref(endpoint.agreement, event.person_id)
    elif event_type == REPORT_FINISHED:
        from reports.models import ReportRun

        run = ReportRun.objects.get(pk=object_id)
        data = {"id": str(run.pk), "kind": run.kind, "status": run.status,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "files": sorted(run.files.values_list("format", flat=True))}
    else:
        from registry.models import Person

        person = Person.objects.get(pk=object_id)
        merged_into = person.merged_into_id
        data = {"id": pseudonyms_for(agency_id, [person.pk])[person.pk] if not _identified(endpoint.agreement) else str(person.pk),
                "status": person.status,
                "merged_into": _ref(endpoint.agreement, merged_into) if merged_into else None}
    return {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}


def _identified(agreement) -> bool:
    return agreement.has_scope(Scope.PERSONS_IDENTIFIED)


def _ref(agreement, person_id) -> str:
    if _identified(agreement):
        return str(person_id)
    return pseudonyms_for(agreement.agency_id, [person_id])[uuid.UUID(str(person_id))]


def deliver(endpoint_id: str, event_type: str, object_id: str, msg_id: str) -> int:
    """Sign and POST one notice; returns the HTTP status, raises WebhookDeliveryError otherwise."""
    endpoint = WebhookEndpoint.objects.select_related("agreement").get(pk=endpoint_id)
    if not (endpoint.is_active and endpoint.agreement.is_in_force() and url_allowed(endpoint.url)):
        return 0  # nothing to deliver any more
    body = json.dumps(payload(endpoint, event_type, object_id), separators=(",", ":"))
    now = dt.datetime.now(tz=dt.UTC)
    headers = {
        "content-type": "application/json", "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(msg_id, now, body),
    }
    request = urllib.request.Request(endpoint.url, data=body.encode(), headers=headers, method="POST")  # noqa: S310 - url_allowed
    try:
        with _OPENER.open(request, timeout=settings.API_WEBHOOK_TIMEOUT_SECONDS) as response:
            code = response.status
    except OSError as exc:  # URLError, HTTPError (non-2xx), timeouts
        raise WebhookDeliveryError(type(exc).__name__) from exc
    if not 200 <= code < 300:
        raise WebhookDeliveryError(str(code))
    return code
