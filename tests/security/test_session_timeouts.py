"""Session timeouts (SECURITY.md SE-1): idle and absolute limits, enforced by our middleware.

Each test travels in time with time-machine and checks that the sign-out came from
``accounts.sessions.SessionPolicyMiddleware`` (a ``session_expired`` event with the reason), not
from the database row's own expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib import messages
from django.test import Client
from django.urls import reverse
from qsessions.models import Session

from accounts.models import SecurityEvent
from accounts.sessions import LOGIN_AT, SEEN_AT
from tests.accounts.helpers import path_of, session_key

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
PAGE = "/accounts/password/"  # any signed-in page


def expired_reasons(user) -> list[str]:
    return [e.details["reason"] for e in SecurityEvent.objects.filter(user=user, kind="session_expired")]


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as machine:
        yield machine


def test_defaults_are_15_minutes_idle_and_8_hours_absolute():
    assert settings.SESSION_IDLE_SECONDS == 15 * 60
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_login_stamps_the_session(traveller, login, make_user):
    client = login(make_user())
    assert client.session[LOGIN_AT] == client.session[SEEN_AT] == int(START.timestamp())


def test_activity_within_the_idle_limit_keeps_the_session(traveller, login, make_user):
    client = login(make_user())
    for _ in range(4):
        traveller.shift(timedelta(minutes=14))
        assert client.get(PAGE).status_code == 200


def test_idle_session_is_signed_out_with_a_message(traveller, login, make_user):
    user = make_user()
    client = login(user)
    old_key = session_key(client)
    traveller.shift(timedelta(minutes=15, seconds=1))
    response = client.get(PAGE)
    assert response.status_code == 302
    assert path_of(response) == reverse("accounts:login")
    assert "next=%2Faccounts%2Fpassword%2F" in response["Location"]
    assert not Session.objects.filter(session_key=old_key).exists()
    assert expired_reasons(user) == ["idle"]
    notices = list(client.get(response["Location"]).context["messages"])
    assert [m.level for m in notices] == [messages.INFO]


def test_absolute_limit_ends_even_an_active_session(traveller, login, make_user):
    user = make_user()
    client = login(user)
    for _ in range(47):  # a request every 10 minutes for 7 h 50 min
        traveller.shift(timedelta(minutes=10))
        assert client.get(PAGE).status_code == 200
    traveller.shift(timedelta(minutes=10))  # 8 h after sign-in
    response = client.get(PAGE)
    assert path_of(response) == reverse("accounts:login")
    assert expired_reasons(user) == ["absolute"]


def test_api_paths_get_401_json_not_a_redirect(traveller, login, make_user):
    client = login(make_user())
    traveller.shift(timedelta(minutes=16))
    response = client.get("/api/v1/people/")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert "WWW-Authenticate" in response


def test_json_clients_get_401(traveller, login, make_user):
    client = login(make_user())
    traveller.shift(timedelta(minutes=16))
    assert client.get(PAGE, HTTP_ACCEPT="application/json").status_code == 401


def test_a_session_without_stamps_is_treated_as_expired(login, make_user):
    user = make_user()
    client = login(user)
    session = client.session
    del session[LOGIN_AT]
    session.save()
    assert path_of(client.get(PAGE)) == reverse("accounts:login")
    assert expired_reasons(user) == ["absolute"]


def test_old_cookie_replayed_after_logout_lands_on_login(login, make_user):
    client = login(make_user())
    old = session_key(client)
    client.post(reverse("accounts:logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and path_of(response) == reverse("accounts:login")
