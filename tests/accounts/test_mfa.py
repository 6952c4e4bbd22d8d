"""Two-factor authentication: enforcement, enrolment, verification, replay and throttling (AU-1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.admin import admin_has_permission
from tests.accounts.helpers import current_code, password_login, path_of, verify, wrong_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mfa_on(settings):
    settings.MFA_REQUIRED = True
    return settings


@pytest.fixture
def password_only(make_user):
    """(client, user): signed in with the password only, a confirmed device on file."""
    user = make_user()
    client = Client()
    client.force_login(user)
    return client, user


SAMPLE_ROUTES = ["home", "accounts:password_change", "accounts:password_change_done", "admin:index"]


@pytest.mark.parametrize("name", SAMPLE_ROUTES)
def test_password_only_session_is_sent_to_verify(password_only, name):
    client, _ = password_only
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert path_of(response) == reverse("accounts:mfa_verify")
    assert f"next={url}".replace("/", "%2F") in response["Location"]


def test_user_without_device_is_sent_to_enrolment(make_user):
    client = Client()
    client.force_login(make_user(mfa=False))
    response = client.get(reverse("home"))
    assert path_of(response) == reverse("accounts:mfa_setup")


def test_api_answers_json_403_not_a_redirect(password_only):
    client, _ = password_only
    response = client.get("/api/v1/people/")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_post_is_refused_too(password_only):
    client, _ = password_only
    response = client.post(reverse("accounts:password_change"), {"old_password": "x"})
    assert path_of(response) == reverse("accounts:mfa_verify")


def test_verify_page_is_reachable_with_password_only(password_only):
    client, _ = password_only
    response = client.get(reverse("accounts:mfa_verify"))
    assert response.status_code == 200
    assert 'name="otp_token"' in response.content.decode()


def test_mfa_step_pages_need_a_password_session():
    for name in ("accounts:mfa_verify", "accounts:mfa_setup"):
        response = Client().get(reverse(name))
        assert path_of(response) == reverse("accounts:login")


def test_valid_code_verifies_session_and_follows_next(password_only):
    client, user = password_only
    device = user.totpdevice_set.get()
    response = verify(client, current_code(device), next_url=reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_verify_ignores_offsite_next(password_only):
    client, user = password_only
    response = verify(client, current_code(user.totpdevice_set.get()), next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_full_login_flow_password_then_code(make_user):
    user = make_user()
    client = Client()
    first = password_login(client, user.username)
    second = verify(client, current_code(user.totpdevice_set.get()))
    assert path_of(first) == reverse("accounts:mfa_verify")
    assert second.status_code == 302 and second["Location"] == reverse("home")


def test_replayed_code_fails(make_user):
    """The same TOTP in the same 30-second step is accepted once (django-otp ``last_t``)."""
    user = make_user()
    device = user.totpdevice_set.get()
    with time_machine.travel(timezone.now(), tick=False):
        code = current_code(device)
        first, second = Client(), Client()
        first.force_login(user)
        second.force_login(user)
        assert verify(first, code).status_code == 302
        replay = verify(second, code)
    assert replay.status_code == 200
    assert replay.context["form"].errors["otp_token"]
    assert path_of(second.get(reverse("home"))) == reverse("accounts:mfa_verify")


def test_five_wrong_codes_trigger_back_off(password_only):
    client, user = password_only
    device = user.totpdevice_set.get()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            clock.shift(timedelta(seconds=60))  # past each previous back-off, so every try counts
            assert verify(client, wrong_code(device)).status_code == 200
        device.refresh_from_db()
        assert device.throttling_failure_count == 5
        refused = verify(client, current_code(device))  # the right code, during back-off
        assert refused.status_code == 200
        assert "17" in str(refused.context["form"].errors["otp_token"])  # 2^(5-1) s + rounding up
        clock.shift(timedelta(seconds=2 ** 4 + 1))  # factor 1 x 2^(5-1) seconds
        assert verify(client, current_code(device)).status_code == 302


def test_throttle_counts_only_real_attempts(password_only):
    """Tries during a back-off are refused without verifying the code."""
    client, user = password_only
    device = user.totpdevice_set.get()
    with time_machine.travel(timezone.now(), tick=False):
        verify(client, wrong_code(device))
        response = verify(client, current_code(device))
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


# --- Enrolment -----------------------------------------------------------------------------------
@pytest.fixture
def enrolling(make_user):
    user = make_user(mfa=False)
    client = Client()
    client.force_login(user)
    return client, user


def pending(client, user) -> TOTPDevice:
    key = client.session[mfa.PENDING_KEY]
    return TOTPDevice(user=user, key=key)


def test_setup_page_shows_qr_svg_and_base32_key(enrolling):
    client, user = enrolling
    response = client.get(reverse("accounts:mfa_setup"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and 'name="otp_token"' in body
    secret = response.context["secret"].replace(" ", "")
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_setup_get_writes_no_device_and_keeps_the_secret(enrolling):
    client, user = enrolling
    first = client.get(reverse("accounts:mfa_setup")).context["secret"]
    second = client.get(reverse("accounts:mfa_setup")).context["secret"]
    assert first == second
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_setup_rejects_a_wrong_code(enrolling):
    client, user = enrolling
    client.get(reverse("accounts:mfa_setup"))
    response = client.post(reverse("accounts:mfa_setup"), {"otp_token": wrong_code(pending(client, user))})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_setup_confirms_with_first_code_and_verifies_session(enrolling):
    client, user = enrolling
    client.get(reverse("accounts:mfa_setup"))
    code = current_code(pending(client, user))
    before = client.session.session_key
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post(reverse("accounts:mfa_setup"), {"otp_token": code})
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed
        assert client.session.session_key != before
        assert client.get(reverse("accounts:password_change")).status_code == 200
        other = Client()
        other.force_login(user)
        assert verify(other, code).status_code == 200  # the enrolment code is spent
    assert response.status_code == 200  # the first backup codes, shown once (test_mfa_backup_codes.py)
    assert response.context["continue_url"] == reverse("home")


def test_setup_cannot_add_a_device_without_verifying(password_only):
    """A stolen password must not be enough to enrol the thief's phone."""
    client, user = password_only
    response = client.get(reverse("accounts:mfa_setup"))
    assert path_of(response) == reverse("accounts:mfa_verify")
    client.post(reverse("accounts:mfa_setup"), {"otp_token": "123456"})
    assert TOTPDevice.objects.filter(user=user).count() == 1


# --- Admin ---------------------------------------------------------------------------------------
def test_admin_login_is_our_login(client):
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/user/")
    assert path_of(response) == reverse("accounts:login")
    assert "next=%2Fadmin%2Faccounts%2Fuser%2F" in response["Location"]


def test_admin_requires_otp_for_staff(make_user):
    admin_user = make_user("admin")
    client = Client()
    client.force_login(admin_user)
    assert path_of(client.get(reverse("admin:index"))) == reverse("accounts:mfa_verify")
    verify(client, current_code(admin_user.totpdevice_set.get()))
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_site_itself_demands_otp(make_user):
    """Defence in depth: even without the middleware, the admin refuses a password-only staff."""
    request = RequestFactory().get("/admin/")
    request.user = make_user("admin")
    request.user.is_verified = lambda: False
    assert admin_has_permission(request) is False
    request.user.is_verified = lambda: True
    assert admin_has_permission(request) is True


@pytest.mark.parametrize(
    "name", ["admin:accounts_user_changelist", "admin:accounts_agency_changelist",
             "admin:accounts_postassignment_changelist", "admin:auth_group_changelist",
             "admin:accounts_user_add"],
)
def test_admin_pages_render_for_verified_admin(make_user, login, name):
    client = login(make_user("superuser"))
    assert client.get(reverse(name)).status_code == 200


def test_admin_user_change_page_renders(make_user, login):
    admin_user = make_user("superuser")
    target = make_user()
    client = login(admin_user)
    response = client.get(reverse("admin:accounts_user_change", args=[target.pk]))
    assert response.status_code == 200
    assert target.username in response.content.decode()


# --- MFA off (local demo) -------------------------------------------------------------------------
def test_mfa_off_lets_password_session_in_and_shows_banner(make_user, settings):
    settings.MFA_REQUIRED = False
    client = Client()
    client.force_login(make_user(mfa=False))
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 200
    assert 'data-testid="mfa-off-banner"' in response.content.decode()


def test_mfa_on_shows_no_banner(login, make_user):
    response = login(make_user()).get(reverse("accounts:password_change"))
    assert response.status_code == 200
    assert 'data-testid="mfa-off-banner"' not in response.content.decode()
