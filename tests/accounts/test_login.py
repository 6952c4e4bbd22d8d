"""Password step and brute-force lockout (SECURITY.md AU-2, AU-1 no user enumeration)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.accounts.helpers import password_login, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mfa_required(settings):
    """MFA is on in production (``MFA_REQUIRED`` defaults to ``not DEBUG``); a shell exporting
    DEBUG=true must not turn these tests into tests of the demo mode."""
    settings.MFA_REQUIRED = True

WRONG = "not the right passphrase at all"


def error_text(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_login_page_renders_form(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body and 'type="submit"' in body


def test_password_login_goes_to_mfa_step(client, make_user):
    user = make_user()
    response = password_login(client, user.username)
    assert response.status_code == 302
    assert path_of(response) == reverse("accounts:mfa_verify")


def test_user_without_device_goes_to_enrolment(client, make_user):
    user = make_user(mfa=False)
    response = password_login(client, user.username)
    assert path_of(response) == reverse("accounts:mfa_setup")


def test_unknown_user_and_wrong_password_look_the_same(make_user):
    user = make_user()
    unknown = password_login(Client(), "nobody-here")
    wrong = password_login(Client(), user.username, WRONG)
    assert unknown.status_code == wrong.status_code == 200
    assert [t.name for t in unknown.templates] == [t.name for t in wrong.templates]
    assert error_text(unknown) == error_text(wrong) != ""
    assert "_auth_user_id" not in wrong.wsgi_request.session


def test_inactive_user_gets_the_same_message(make_user):
    user = make_user(is_active=False)
    inactive = password_login(Client(), user.username)
    unknown = password_login(Client(), "nobody-here")
    assert inactive.status_code == 200
    assert error_text(inactive) == error_text(unknown)


def fail_times(username: str, times: int, ip: str = "127.0.0.1") -> None:
    for _ in range(times):
        password_login(Client(), username, WRONG, ip=ip)


def test_five_failures_lock_the_user_and_ip_pair(make_user):
    user = make_user()
    fail_times(user.username, 5)
    response = password_login(Client(), user.username)  # even the right password
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]


def test_four_failures_do_not_lock(make_user):
    user = make_user()
    fail_times(user.username, 4)
    assert password_login(Client(), user.username).status_code == 302


def test_unknown_username_is_locked_out_the_same_way(make_user):
    fail_times("nobody-here", 5)
    assert password_login(Client(), "nobody-here").status_code == 429


def test_same_user_from_another_ip_can_log_in(make_user):
    user = make_user()
    fail_times(user.username, 5, ip="10.0.0.1")
    assert password_login(Client(), user.username, ip="10.0.0.1").status_code == 429
    assert password_login(Client(), user.username, ip="10.0.0.2").status_code == 302


def test_another_user_from_the_same_ip_can_log_in(make_user):
    victim, colleague = make_user(), make_user()
    fail_times(victim.username, 5)
    assert password_login(Client(), colleague.username).status_code == 302


def test_lockout_ends_after_cool_off(make_user, settings):
    """Axes counts the cool-off from the last attempt (a try while locked restarts it)."""
    user = make_user()
    cool_off = settings.AXES_COOLOFF_TIME
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail_times(user.username, 5)
        clock.shift(cool_off - timedelta(minutes=1))
        assert password_login(Client(), user.username).status_code == 429
        clock.shift(cool_off + timedelta(seconds=1))
        assert password_login(Client(), user.username).status_code == 302


def test_lockout_is_recorded(make_user):
    from axes.models import AccessAttempt

    user = make_user()
    fail_times(user.username, 5)
    attempt = AccessAttempt.objects.get(username=user.username)
    assert attempt.failures_since_start == 5
