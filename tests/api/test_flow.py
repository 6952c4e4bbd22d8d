"""The documented partner flow end to end: client, token, places, registrations, an event with
an idempotency key, statistics as HXL, and nothing outside the agreement."""

from __future__ import annotations

import csv
import datetime as dt
import io

import hxl as libhxl
import pytest
from django.utils import timezone

from privacy.models import AccessLog
from tests.api.conftest import make_agreement, register
from transit.models import TransitEvent

pytestmark = pytest.mark.django_db


def test_partner_flow(partner, official, gov, place_a, place_far):
    agreement = make_agreement(gov, ["places:read", "persons:read:pseudonymous", "events:read", "events:write",
                                     "stats:read"], [place_a], fields={"persons": ["sex", "nationality"]})
    api = partner(agreement, name_agreement=False)  # as docs/api.md: --agency and --scopes only
    seen = register(official, place_a)
    hidden = register(official, place_far)

    places = api.get("/api/v1/places/")
    assert places.status_code == 200
    assert [p["code"] for p in places.json()["results"]] == ["API-A"]

    regs = api.get("/api/v1/registrations/")
    assert regs.status_code == 200
    body = regs.json()["results"]
    assert len(body) == 1
    pseudonym = body[0]["person"]
    assert str(seen.person_id) not in regs.content.decode()
    assert str(hidden.person_id) not in regs.content.decode()

    person = api.get(f"/api/v1/persons/{pseudonym}/")
    assert person.status_code == 200
    assert set(person.json()) == {"id", "status", "merged_into", "modified_at", "sex", "nationality"}

    event = {"place": "API-A", "kind": "entry", "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
             "person": pseudonym, "direction": "north"}
    created = api.post("/api/v1/events/", event, format="json", HTTP_IDEMPOTENCY_KEY="flow-key-1")
    assert created.status_code == 201, created.content
    again = api.post("/api/v1/events/", event, format="json", HTTP_IDEMPOTENCY_KEY="flow-key-1")
    assert again.status_code == 201 and again.json() == created.json()
    assert TransitEvent.objects.filter(person_id=seen.person_id).count() == 1

    hxl = api.get("/api/v1/statistics/hxl/")
    assert hxl.status_code == 200
    lines = hxl.content.decode().splitlines()
    assert lines[1].startswith("#date,#loc+code,#adm1+code,#country+code+origin,#affected+f+infants+age_0_4")
    dataset = libhxl.data(list(csv.reader(io.StringIO(hxl.content.decode()))))  # libhxl reads it as HXL
    assert {"#date", "#loc", "#affected"} <= set(dataset.tags)
    assert {row.get("#loc+code") for row in dataset} == {"API-A"}  # never the place outside the agreement
    assert AccessLog.objects.filter(agreement_ref=agreement.reference, object_type="registry.registration").exists()
