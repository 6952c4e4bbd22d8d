"""Security events (SECURITY.md LG-5): each kind is emitted by the real flow, append-only."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import security_events
from accounts.models import SecurityEvent
from tests.accounts.helpers import current_code, password_login, verify, wrong_code
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

WRONG = "not the right passphrase at all"


def kinds(**filters) -> list[str]:
    return list(SecurityEvent.objects.filter(**filters).order_by("id").values_list("kind", flat=True))


def test_login_success_records_user_and_address(make_user):
    user = make_user()
    password_login(Client(), user.username, ip="10.1.2.3")
    event = SecurityEvent.objects.get(kind="login_succeeded", user=user)
    assert event.ip == "10.1.2.3"
    assert event.path == reverse("accounts:login")


def test_failed_login_stores_a_hash_never_the_typed_name(make_user):
    typed = "maybe-my-password-2026"
    password_login(Client(), typed, WRONG)
    event = SecurityEvent.objects.get(kind="login_failed")
    assert event.user is None
    assert event.username_hash == security_events.username_hash(typed)
    row = json.dumps(list(SecurityEvent.objects.values()), default=str)
    assert typed not in row and WRONG not in row


def test_failed_login_of_a_known_user_names_the_user(make_user):
    user = make_user()
    password_login(Client(), user.username, WRONG)
    assert kinds(user=user) == ["mfa_enrolled", "login_failed"]


def test_lockout_is_recorded(make_user):
    user = make_user()
    for _ in range(5):
        password_login(Client(), user.username, WRONG)
    assert kinds(user=user, kind="locked_out") == ["locked_out"]


def test_mfa_enrolment_failure_and_removal_are_recorded(make_user):
    user = make_user()
    device = user.totpdevice_set.get()
    assert kinds(user=user) == ["mfa_enrolled"]
    client = Client()
    password_login(client, user.username)
    verify(client, wrong_code(device))
    assert SecurityEvent.objects.get(user=user, kind="mfa_failed").details["failures"] == 1
    verify(client, current_code(device))
    assert kinds(user=user, kind="mfa_failed") == ["mfa_failed"]  # success resets, records nothing
    device.delete()
    assert kinds(user=user, kind="mfa_device_removed") == ["mfa_device_removed"]


def test_enrolment_of_an_unconfirmed_device_is_not_an_event(make_user):
    user = make_user(mfa=False)
    TOTPDevice.objects.create(user=user, name="pending", confirmed=False)
    assert kinds(user=user) == []


def test_forbidden_responses_are_recorded(make_user):
    user = make_user()
    client = verified_client(user, Client(enforce_csrf_checks=True))
    response = client.post(reverse("accounts:sessions"))  # no CSRF token
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind="permission_denied")
    assert event.user == user
    assert event.details == {"method": "POST", "status": 403}


def test_a_404_to_a_signed_in_user_is_recorded_without_the_query(make_user):
    """Out-of-scope objects answer 404; probing ids leaves a trace (LG-5 scope denials)."""
    user = make_user()
    client = verified_client(user)
    response = client.get("/people/6f1c1b1e-0000-4000-8000-000000000001/?q=Mar%C3%ADa")
    assert response.status_code == 404
    event = SecurityEvent.objects.get(kind="not_found")
    assert event.user == user
    assert event.details == {"method": "GET", "status": 404}
    assert event.path == "/people/6f1c1b1e-0000-4000-8000-000000000001/"  # no query string


def test_an_anonymous_404_is_not_an_event(client):
    assert client.get("/no-such-page/").status_code == 404
    assert kinds(kind="not_found") == []


def test_refused_input_is_recorded_with_the_status_only(client):
    """An API body refused as invalid (here: not JSON at all) is a validation_failed event."""
    response = client.post("/api/oauth/token/", data="\x00{", content_type="application/json")
    assert response.status_code in (400, 415)
    event = SecurityEvent.objects.get(kind="validation_failed")
    assert event.details == {"method": "POST", "status": response.status_code}
    assert "\x00" not in json.dumps(event.details)


def test_logout_is_recorded(login, make_user):
    user = make_user()
    login(user).post(reverse("accounts:logout"))
    assert kinds(user=user, kind="logged_out") == ["logged_out"]


def test_details_are_scalars_without_control_characters(make_user):
    event = security_events.record("login_failed", note="a\r\nFAKE line", obj={"k": 1}, n=3)
    assert event.details == {"note": "a  FAKE line", "obj": "{'k': 1}", "n": 3}


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        security_events.record("something_else")


def test_recording_failure_does_not_break_the_caller(monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(SecurityEvent, "save", broken)
    assert security_events.record("login_failed") is None


def test_events_cannot_be_changed_or_deleted_in_python(make_user):
    event = security_events.record("login_failed")
    event.kind = "login_succeeded"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


@pytest.mark.parametrize("statement", ["UPDATE {t} SET kind = 'login_succeeded'", "DELETE FROM {t}"])
def test_events_are_append_only_in_postgresql(statement):
    assert connection.vendor == "postgresql"
    security_events.record("login_failed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(t=SecurityEvent._meta.db_table))
    assert SecurityEvent.objects.filter(kind="login_failed").count() == 1
