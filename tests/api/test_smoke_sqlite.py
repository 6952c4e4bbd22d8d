"""The partner API on the embedded default (SQLite smoke set, also run on PostgreSQL): a client
from the real command and token endpoint, a consent-based agreement (the registrations rule
that uses JSON containment on PostgreSQL), an event posted with an idempotency key, and the
webhook it triggers (the agreements' scope test), delivered signed in-process."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from registry.models import Registration
from tests.api.conftest import make_agreement, register
from transit.models import TransitEvent

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]
NGO_SCOPES = ["places:read", "persons:read:pseudonymous", "events:read", "webhooks"]


def test_consent_rule_and_webhook_scope_work_on_this_database(partner, official, gov, ngo, place_a, receiver,
                                                               django_capture_on_commit_callbacks):
    consented = register(official, place_a, consent=True)
    register(official, place_a)  # public-interest basis, no consent: not for a consent-based agreement
    withdrawn = register(official, place_a, consent=True)
    Registration.objects.filter(pk=withdrawn.pk).update(consent_withdrawn_at=timezone.now())

    ngo_api = partner(make_agreement(ngo, NGO_SCOPES, [place_a], legal_basis="consent"))
    endpoint = ngo_api.put("/api/v1/webhook-endpoint/", {"url": receiver.url}, format="json")
    assert endpoint.status_code == 201, endpoint.content
    rows = ngo_api.get("/api/v1/registrations/")
    assert rows.status_code == 200, rows.content
    assert len(rows.json()["results"]) == 1
    pseudonym = rows.json()["results"][0]["person"]

    gov_api = partner(make_agreement(gov, ["events:write", "events:read", "persons:read:identified"], [place_a]))
    body = {"place": "API-A", "kind": "entry", "person": str(consented.person_id),
            "occurred_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        created = gov_api.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="smoke-1")
        replay = gov_api.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="smoke-1")
    assert created.status_code == 201, created.content
    assert replay.status_code == 201 and replay.json() == created.json()
    assert TransitEvent.objects.filter(person_id=consented.person_id).count() == 1

    assert len(receiver.received) == 1, f"one signed notice to the NGO ({connection.vendor})"
    headers, raw = receiver.received[0]
    notice = Webhook(endpoint.json()["secret"]).verify(raw, headers)
    assert notice["type"] == "transit_event.created"
    assert notice["data"]["person"] == pseudonym  # the NGO's own pseudonym, never the UUID
    assert str(consented.person_id) not in raw.decode()

