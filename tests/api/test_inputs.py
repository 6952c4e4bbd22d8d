"""AC-5, RL-3 and the bad-input corpus (rows 1-2, 15-24): 4xx problem details, never a 500,
nothing stored."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.utils import timezone

from api.models import IdempotencyRecord
from privacy.access_log import AccessLogError
from tests.api.conftest import make_agreement
from transit.models import TransitEvent

pytestmark = pytest.mark.django_db
WRITE = ["events:write", "events:read", "places:read", "persons:read:pseudonymous"]


def _event(**extra):
    return {"place": "API-A", "kind": "entry", "occurred_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
            "head_count": {"f_18_59": 3}, **extra}


@pytest.fixture
def writer(partner, gov, place_a):
    return partner(make_agreement(gov, WRITE, [place_a]))


def _post_raw(api, body: str | bytes, key="k-raw-00001", content_type="application/json"):
    return api.generic("POST", "/api/v1/events/", body, content_type=content_type, HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("field", ["verified", "status", "agency", "created_by", "legal_basis", "id", "version",
                                   "recorded_by", "source", "flag", "unknown_key"])
def test_mass_assignment_names_the_field(field, writer):
    response = writer.post("/api/v1/events/", _event(**{field: "x"}), format="json", HTTP_IDEMPOTENCY_KEY="ma-1")
    assert response.status_code == 400
    assert field in {e["attr"] for e in response.json()["errors"]}
    assert TransitEvent.objects.count() == 0


BAD_BODIES = [
    ('{"place": "' + "A" * 300 + '", "kind": "entry"}', 400),  # over max length
    ('{"place": "Mar\\u0000ía"}', 400),  # NUL
    ('{"head_count": {"k": "\\u0000"}}', 400),
    ('{"place": ["API-A"], "kind": "entry", "occurred_at": "2026-01-01T00:00:00Z", "head_count": {"f_18_59": 1}}', 400),
    ('{"kind": {"$ne": ""}}', 400),
    ('{"place": "API-A", "kind": "entry", "occurred_at": "2026-01-01T00:00:00Z", "head_count": {"f_18_59": "1"}}', 400),
    ('{"place": "API-A", "kind": "entry", "occurred_at": NaN}', 400),
    ('{"x": Infinity}', 400),
    ("[" * 100_000 + "]" * 100_000, 400),  # nested 100,000 deep
    ('{"a":' * 40 + "1" + "}" * 40, 400),  # deeper than 32
    ('{"place": "A", "place": "B"}', 400),  # duplicate keys
    ('{"place": "API-A"', 400),  # truncated
    (b'\xff\xfe{}', 400),  # not UTF-8
    ('{"place": "API-A", "kind": "entry", "occurred_at": "2026-01-01T00:00:00", "head_count": {"f_18_59": 1}}', 400),
    ('{"place": "API-A", "kind": "entry", "occurred_at": "1989-01-01T00:00:00Z", "head_count": {"f_18_59": 1}}', 400),
    ('{"place": "NOPE", "kind": "entry", "occurred_at": "2026-01-01T00:00:00Z", "head_count": {"f_18_59": 1}}', 400),
]


@pytest.mark.parametrize(("body", "status"), BAD_BODIES)
def test_bad_bodies(body, status, writer):
    response = _post_raw(writer, body)
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert "errors" in response.json()
    assert TransitEvent.objects.count() == 0


def test_body_over_limit_is_json_413(writer, settings):
    settings.API_JSON_MAX_BYTES = 1000
    response = _post_raw(writer, json.dumps({"place": "x" * 5000}))
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "payload_too_large"


def test_django_upload_limit_is_json_413(writer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.API_JSON_MAX_BYTES = 10_000_000
    response = _post_raw(writer, json.dumps({"place": "x" * 5000}))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "multipart/form-data; boundary=x",
                                          "application/json; charset=utf-16", "application/json; charset=utf-7"])
def test_wrong_content_type_is_415(content_type, writer):
    response = _post_raw(writer, '{"place": "API-A"}', content_type=content_type)
    assert response.status_code == 415
    assert TransitEvent.objects.count() == 0


def test_nul_in_query_is_400(partner, gov, place_a):
    api = partner(make_agreement(gov, ["places:read"], [place_a]))
    assert api.get("/api/v1/places/?code=%00").status_code == 400
    assert api.get("/api/v1/places/?search=%00").status_code == 400


BAD_FILTERS = [
    ("/api/v1/events/", "occurred_before", "0115-04-27 05:51:17-21:29"),  # offset PostgreSQL refuses (was a 500)
    ("/api/v1/events/", "occurred_after", "2026-05-01T10:00:00+15:00"),
    ("/api/v1/events/", "occurred_after", "2026-05-01T10:00:00"),  # naive
    ("/api/v1/events/", "occurred_after", "ayer"),
    ("/api/v1/events/", "occurred_after", "9999-12-31T23:00:00-05:00"),  # overflows when made UTC
    ("/api/v1/places/", "modified_after", "0001-01-01T00:00:00+05:00"),
    ("/api/v1/persons/", "birth_year", "1e400"),
    ("/api/v1/persons/", "birth_year", "1990.5"),
    ("/api/v1/persons/", "birth_year", "99999999999999999999"),
    ("/api/v1/events/", "kind", "teleport"),
    ("/api/v1/registrations/", "status", "'; DROP TABLE registry_person;--"),
    ("/api/v1/places/", "country", "MEX"),
    ("/api/v1/statistics/", "date_to", "9999-12-31"),
    ("/api/v1/statistics/", "date_from", "0001-01-01"),
]


@pytest.mark.parametrize(("url", "name", "value"), BAD_FILTERS)
def test_bad_filter_values_are_400_naming_the_parameter(url, name, value, partner, gov, place_a):
    """Every filter value is validated before it reaches the database (bad input 20, IN-1)."""
    scopes = ["places:read", "events:read", "persons:read:pseudonymous", "stats:read"]
    api = partner(make_agreement(gov, scopes, [place_a], fields={"persons": ["birth_year"]}))
    response = api.get(url, {name: value})
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert [error["attr"] for error in response.json()["errors"]] == [name]


def test_valid_filter_values_still_work(partner, gov, place_a):
    api = partner(make_agreement(gov, ["events:read", "places:read"], [place_a]))
    for params in ({"occurred_after": "2026-05-01T10:00:00-06:00"}, {"occurred_before": "2026-05-01T16:00:00Z"},
                   {"modified_after": "1990-01-01T00:00:00+14:00"}):
        url = "/api/v1/places/" if "modified_after" in params else "/api/v1/events/"
        assert api.get(url, params).status_code == 200, params


def test_idempotent_replay_and_conflict(writer):
    body = _event()
    first = writer.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")
    second = writer.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert TransitEvent.objects.count() == 1
    different = writer.post("/api/v1/events/", _event(kind="exit"), format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")
    assert different.status_code == 422
    assert TransitEvent.objects.count() == 1


@pytest.mark.parametrize(("key", "status"), [(None, 400), ("", 400), ("k" * 256, 400), ("k" * 10_000, 400),
                                            ("k" * 255, 201), ("x", 201)])
def test_idempotency_key_rules(key, status, writer):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = writer.post("/api/v1/events/", _event(), format="json", **headers)
    assert response.status_code == status
    assert TransitEvent.objects.count() == (1 if status == 201 else 0)


def test_same_key_different_agencies_are_independent(partner, gov, place_a):
    one = partner(make_agreement(gov, WRITE, [place_a]))
    other_gov = type(gov).objects.create(code="igm-api", name="IGM", kind="government")
    two = partner(make_agreement(other_gov, WRITE, [place_a]))
    assert one.post("/api/v1/events/", _event(), format="json", HTTP_IDEMPOTENCY_KEY="shared-1").status_code == 201
    assert two.post("/api/v1/events/", _event(), format="json", HTTP_IDEMPOTENCY_KEY="shared-1").status_code == 201
    assert TransitEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_records_one_event(partner, gov, place_a):
    api_token = partner(make_agreement(gov, WRITE, [place_a])).token
    from tests.api.conftest import bearer

    body, results, barrier = _event(), [], threading.Barrier(4)

    def post():
        try:
            barrier.wait()
            response = bearer(api_token).post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-key-1")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(code for code, _ in results)
    assert TransitEvent.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
    created = [body for code, body in results if code == 201]
    assert all(b == created[0] for b in created)


def test_access_log_failure_is_503_and_nothing_leaks(partner, official, gov, place_a, monkeypatch):
    from tests.api.conftest import register

    register(official, place_a)
    api = partner(make_agreement(gov, WRITE, [place_a]))

    def broken(**kwargs):
        raise AccessLogError("down")

    monkeypatch.setattr("api.views.base.log_access", broken)
    response = api.get("/api/v1/registrations/")
    assert response.status_code == 503
    assert "no-store" in response["Cache-Control"]
    assert "results" not in response.json()


def test_naive_and_future_times_rejected(writer):
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert writer.post("/api/v1/events/", _event(occurred_at=future), format="json",
                       HTTP_IDEMPOTENCY_KEY="fut-1").status_code == 400
