"""AC-2: endpoint × identity × method, each cell with its exact status and access-log effect."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from privacy.models import AccessLog
from tests.api.conftest import ALL_SCOPES, make_agreement, register
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

READS = {
    "places": ("/api/v1/places/", "places:read", None),
    "persons": ("/api/v1/persons/", "persons:read:pseudonymous", "registry.person"),
    "registrations": ("/api/v1/registrations/", "persons:read:pseudonymous", "registry.registration"),
    "events": ("/api/v1/events/", "events:read", "transit.transitevent"),
    "statistics": ("/api/v1/statistics/", "stats:read", "api.statistics"),
}


@pytest.fixture
def world(official, gov, ngo, place_a):
    register(official, place_a)
    return {"in_scope": make_agreement(gov, ALL_SCOPES, [place_a])}


def _identity(name, partner, world, ngo, gov, place_a, make_user):
    """An API client for one identity of the matrix, and the agreement it reads under."""
    full = world["in_scope"]
    if name == "anonymous":
        return APIClient(), None
    if name == "right_scope":
        return partner(full), full
    if name == "other_agency":
        return partner(make_agreement(ngo, ["places:read"], [place_a])), None
    if name == "wrong_scope":
        return partner(make_agreement(gov, ["permits:verify"], [place_a])), None
    if name in ("expired", "suspended"):
        agreement = make_agreement(gov, ALL_SCOPES, [place_a])
        api = partner(agreement)
        if name == "expired":
            agreement.valid_from = agreement.valid_until = timezone.localdate() - dt.timedelta(days=1)
        else:
            agreement.status = "suspended"
        agreement.save()
        return api, None
    role = {"supervisor_session": "supervisor", "admin_session": "admin"}[name]
    client = verified_client(make_user(role, agency=gov))
    return client, None


IDENTITIES = ["anonymous", "other_agency", "expired", "suspended", "wrong_scope", "right_scope",
              "supervisor_session", "admin_session"]
EXPECTED = {"anonymous": 401, "other_agency": 403, "expired": 403, "suspended": 403, "wrong_scope": 403,
            "right_scope": 200, "supervisor_session": 403, "admin_session": 403}


@pytest.mark.parametrize("resource", list(READS))
@pytest.mark.parametrize("identity", IDENTITIES)
def test_read_matrix(resource, identity, partner, world, ngo, gov, place_a, make_user):
    url, _scope, log_type = READS[resource]
    client, agreement = _identity(identity, partner, world, ngo, gov, place_a, make_user)
    before = AccessLog.objects.count()
    response = client.get(url)
    expected = EXPECTED[identity]
    if identity == "other_agency" and resource == "places":
        expected = 200  # its own agreement grants places at the same place
    assert response.status_code == expected, response.content
    logs = AccessLog.objects.count() - before
    if expected == 200 and log_type:
        row = AccessLog.objects.order_by("-pk").first()
        assert logs == 1
        assert row.object_type == log_type
        assert row.agreement_ref == agreement.reference
        assert row.purpose == agreement.purpose
    else:
        assert logs == 0


@pytest.mark.parametrize("identity", IDENTITIES)
def test_event_write_matrix(identity, partner, world, ngo, gov, place_a, make_user):
    client, _agreement = _identity(identity, partner, world, ngo, gov, place_a, make_user)
    body = {"place": "API-A", "kind": "entry", "occurred_at": timezone.now().isoformat(),
            "head_count": {"f_18_59": 2}}
    response = client.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"m-{identity}")
    expected = {**EXPECTED, "right_scope": 201}[identity]
    assert response.status_code == expected, response.content


def test_read_only_token_cannot_post(partner, gov, place_a):
    api = partner(make_agreement(gov, ["events:read"], [place_a]))
    body = {"place": "API-A", "kind": "entry", "occurred_at": timezone.now().isoformat(), "head_count": {"f_18_59": 2}}
    assert api.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="ro-1").status_code == 403


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_partners_cannot_change_or_delete(method, partner, world):
    api = partner(world["in_scope"])
    assert getattr(api, method)("/api/v1/events/", {}, format="json").status_code == 405


def test_trace_is_refused_and_method_override_ignored(partner, world):
    api = partner(world["in_scope"])
    assert api.generic("TRACE", "/api/v1/places/").status_code == 405
    overridden = api.get("/api/v1/places/", HTTP_X_HTTP_METHOD_OVERRIDE="DELETE")
    assert overridden.status_code == 200


def test_non_mfa_session_gets_403(make_user, gov):
    from django.test import Client

    client = Client()
    client.force_login(make_user("supervisor", agency=gov))
    assert client.get("/api/v1/places/").status_code == 403
