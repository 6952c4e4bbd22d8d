"""Signed webhooks (Standard Webhooks) delivered through the outbox and retried; the endpoint
resource with ETag / If-Match (RL-4)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from privacy import outbox
from privacy.models import OutboxMessage
from tests.api.conftest import make_agreement, register

pytestmark = pytest.mark.django_db


SCOPES = ["webhooks", "events:write", "events:read", "places:read", "persons:read:pseudonymous"]


def _setup(partner, gov, place_a, receiver):
    api = partner(make_agreement(gov, SCOPES, [place_a]))
    created = api.put("/api/v1/webhook-endpoint/", {"url": receiver.url}, format="json")
    assert created.status_code == 201, created.content
    return api, created.json()["secret"]


def _event_body():
    return {"place": "API-A", "kind": "entry", "occurred_at": (timezone.now() - dt.timedelta(minutes=1)).isoformat(),
            "head_count": {"m_18_59": 2}}


def test_new_event_is_delivered_signed(partner, gov, place_a, receiver, django_capture_on_commit_callbacks):
    api, secret = _setup(partner, gov, place_a, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        event = api.post("/api/v1/events/", _event_body(), format="json", HTTP_IDEMPOTENCY_KEY="wh-1")
    assert event.status_code == 201
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "transit_event.created"
    assert payload["data"]["place"] == "API-A"
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        Webhook("whsec_" + "A" * 43).verify(body, headers)


def test_failed_delivery_is_retried(partner, gov, place_a, receiver, django_capture_on_commit_callbacks):
    api, secret = _setup(partner, gov, place_a, receiver)
    receiver.fail_next = 1
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/events/", _event_body(), format="json", HTTP_IDEMPOTENCY_KEY="wh-2")
    message = OutboxMessage.objects.get(task_name="api.deliver_webhook")
    assert receiver.received == []
    assert message.attempts == 1 and message.available_at > timezone.now()  # backing off
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    outbox.relay()
    assert len(receiver.received) == 1
    Webhook(secret).verify(receiver.received[0][1], receiver.received[0][0])


def test_merge_notifies_agencies_that_saw_the_person(partner, official, gov, place_a, receiver,
                                                     django_capture_on_commit_callbacks):
    from registry.models import Person

    api, secret = _setup(partner, gov, place_a, receiver)
    keep, gone = register(official, place_a), register(official, place_a)
    api.get("/api/v1/persons/")  # the agency is shown both (pseudonyms recorded)
    with django_capture_on_commit_callbacks(execute=True):
        person = Person.objects.get(pk=gone.person_id)
        person.status, person.merged_into_id = "merged", keep.person_id
        person.save()
    payload = Webhook(secret).verify(receiver.received[-1][1], receiver.received[-1][0])
    assert payload["type"] == "person.merged"
    assert str(gone.person_id) not in json.dumps(payload)


def test_endpoint_etag_and_if_match(partner, gov, place_a, receiver):
    api, _secret = _setup(partner, gov, place_a, receiver)
    read = api.get("/api/v1/webhook-endpoint/")
    etag = read["ETag"]
    assert "secret" not in read.json()
    assert api.put("/api/v1/webhook-endpoint/", {"url": receiver.url}, format="json").status_code == 428
    updated = api.put("/api/v1/webhook-endpoint/", {"url": receiver.url, "is_active": False}, format="json",
                      HTTP_IF_MATCH=etag)
    assert updated.status_code == 200 and updated["ETag"] != etag
    stale = api.put("/api/v1/webhook-endpoint/", {"url": receiver.url}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412


@pytest.mark.parametrize("url", ["http://example.org/hook", "ftp://127.0.0.1/x", "file:///etc/passwd",
                                 "http://10.0.0.1/hook"])
def test_only_https_urls(url, partner, gov, place_a):
    api = partner(make_agreement(gov, SCOPES, [place_a]))
    response = api.put("/api/v1/webhook-endpoint/", {"url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "url"


def test_local_http_refused_in_production(partner, gov, place_a, settings):
    settings.API_WEBHOOK_ALLOW_LOCAL_HTTP = False
    api = partner(make_agreement(gov, SCOPES, [place_a]))
    assert api.put("/api/v1/webhook-endpoint/", {"url": "http://127.0.0.1:9/x"}, format="json").status_code == 400


def test_erasure_notifies_only_agencies_that_saw_the_person(partner, official, gov, ngo, place_a, receiver,
                                                            django_capture_on_commit_callbacks):
    """The real erasure service: the agency that was shown the person gets one signed
    ``person.erased`` with its own pseudonym; an agency that never saw them gets nothing."""
    from privacy.erasure import erase_person
    from registry.models import Person
    from tests.api.conftest import Receiver

    api, secret = _setup(partner, gov, place_a, receiver)
    other = Receiver()
    try:
        blind = partner(make_agreement(ngo, SCOPES[:1] + ["persons:read:pseudonymous"], [place_a]))
        assert blind.put("/api/v1/webhook-endpoint/", {"url": other.url}, format="json").status_code == 201
        gone = register(official, place_a)
        shown = api.get("/api/v1/persons/").json()["results"][0]["id"]
        with django_capture_on_commit_callbacks(execute=True):
            erase_person(official, Person.objects.get(pk=gone.person_id), reason="test")
        notices = [Webhook(secret).verify(body, headers) for headers, body in receiver.received]
        assert [n["type"] for n in notices] == ["person.erased"]
        assert notices[0]["data"] == {"id": shown, "status": "erased", "merged_into": None}
        assert other.received == []
    finally:
        other.close()


def test_a_finished_report_run_is_announced_to_the_agreement_that_may_see_it(
    partner, gov, ngo, place_a, receiver, django_capture_on_commit_callbacks, settings, tmp_path
):
    """Partners need not poll: when a run their agency asked for over their places is done, one
    signed ``report_run.finished`` notice (ids and formats, no data) reaches their endpoint;
    another agency's endpoint hears nothing."""
    settings.MEDIA_ROOT = tmp_path / "media"
    scopes = ["webhooks", "reports:read", "places:read"]
    api = partner(make_agreement(gov, scopes, [place_a]))
    secret = api.put("/api/v1/webhook-endpoint/", {"url": receiver.url}, format="json").json()["secret"]
    other = partner(make_agreement(ngo, scopes, [place_a]))
    assert other.put("/api/v1/webhook-endpoint/", {"url": receiver.url + "other"}, format="json").status_code == 201
    body = {"kind": "daily_flows", "parameters": {"date_from": "2026-03-02", "date_to": "2026-03-02",
                                                  "formats": ["csv"], "language": "en"}}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/report-runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="wh-report")
    assert created.status_code in (201, 202), created.content
    assert api.get(f"/api/v1/report-runs/{created.json()['id']}/").json()["status"] == "done"
    finished = [(h, b) for h, b in receiver.received if json.loads(b)["type"] == "report_run.finished"]
    assert len(finished) == 1
    payload = Webhook(secret).verify(finished[0][1], finished[0][0])
    assert payload["data"]["id"] == created.json()["id"] and payload["data"]["status"] == "done"
    assert payload["data"]["files"] == ["csv"]
    assert OutboxMessage.objects.filter(task_name="api.deliver_webhook", kwargs__event_type="report_run.finished").count() == 1
