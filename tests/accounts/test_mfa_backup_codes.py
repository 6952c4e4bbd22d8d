"""MFA backup codes: one-time recovery codes over django-otp's static plugin (AU-1).

Issued with the first TOTP enrolment and on demand (after a fresh TOTP code or the password),
shown once, accepted by the verify step in place of a TOTP code, each exactly once, throttled.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib import messages
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import SecurityEvent
from tests.accounts.helpers import current_code, password_login, path_of, verify, wrong_code
from tests.conftest import PASSWORD, verified_client

pytestmark = pytest.mark.django_db

CODES_URL = "/accounts/mfa/backup-codes/"


@pytest.fixture(autouse=True)
def mfa_on(settings):
    settings.MFA_REQUIRED = True
    return settings


@pytest.fixture
def user_with_codes(make_user):
    """(user, codes): a confirmed authenticator and a fresh set of backup codes."""
    user = make_user()
    return user, mfa.issue_backup_codes(user)


def stored_codes(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def signed_in_with(user, code: str) -> tuple[Client, object]:
    """The real flow: the password step, then ``code`` at the verify step."""
    client = Client()
    first = password_login(client, user.username)
    assert path_of(first) == reverse("accounts:mfa_verify")
    return client, verify(client, code)


def shown_codes(response) -> list[str]:
    return [code.replace(" ", "") for code in response.context["codes"]]


# --- Issuing -------------------------------------------------------------------------------------
def test_issuing_gives_ten_distinct_readable_codes_stored_by_django_otp(make_user):
    user = make_user()
    codes = mfa.issue_backup_codes(user)
    assert len(codes) == len(set(codes)) == 10
    for code in codes:
        assert len(code) == 10 and set(code) <= set("abcdefghijklmnopqrstuvwxyz234567")
        assert not code.isdigit()
    assert stored_codes(user) == set(codes)
    assert StaticDevice.objects.get(user=user).confirmed
    assert mfa.format_backup_code("abcdefghij") == "abcde fghij"


def test_issuing_again_replaces_the_old_set(user_with_codes):
    user, old = user_with_codes
    new = mfa.issue_backup_codes(user)
    assert stored_codes(user) == set(new)
    assert not set(old) & set(new)
    assert StaticDevice.objects.filter(user=user).count() == 1
    _, response = signed_in_with(user, old[0])
    assert response.status_code == 200 and response.context["form"].errors["otp_token"]


def test_a_user_without_an_authenticator_cannot_issue_codes(make_user):
    user = make_user(mfa=False)
    with pytest.raises(mfa.BackupCodesUnavailable):
        mfa.issue_backup_codes(user)
    client = Client()
    client.force_login(user)
    response = client.post(CODES_URL, {"password": PASSWORD})
    assert path_of(response) == reverse("accounts:mfa_setup")
    assert not StaticToken.objects.filter(device__user=user).exists()


def test_backup_codes_alone_are_not_an_enrolment(user_with_codes):
    """After the authenticator is removed, the verify step sends to enrolment (no loop)."""
    user, codes = user_with_codes
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    client.force_login(user)
    assert path_of(client.get(reverse("home"))) == reverse("accounts:mfa_verify")
    assert path_of(client.get(reverse("accounts:mfa_verify"))) == reverse("accounts:mfa_setup")
    assert client.get(reverse("accounts:mfa_setup")).status_code == 200
    assert path_of(verify(client, codes[0])) == reverse("accounts:mfa_setup")
    assert len(stored_codes(user)) == 10  # nothing was spent


# --- Signing in with a code ----------------------------------------------------------------------
def test_a_backup_code_signs_in_through_the_real_flow_exactly_once(user_with_codes):
    user, codes = user_with_codes
    typed = mfa.format_backup_code(codes[0]).upper().replace(" ", "-")  # "ABCDE-FGHIJ" is accepted
    client, response = signed_in_with(user, typed)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("accounts:password_change")).status_code == 200

    _, again = signed_in_with(user, codes[0])
    assert again.status_code == 200
    assert again.context["form"].errors["otp_token"]
    assert codes[0] not in stored_codes(user)


def test_a_used_code_is_counted_and_recorded(user_with_codes):
    user, codes = user_with_codes
    signed_in_with(user, codes[3])
    assert mfa.backup_codes_remaining(user) == 9
    event = SecurityEvent.objects.get(user=user, kind="mfa_backup_code_used")
    assert event.details == {"remaining": 9}
    client = verified_client(user)
    page = client.get(CODES_URL)
    assert page.context["remaining"] == 9
    assert "9" in page.content.decode()


def test_a_backup_code_is_not_a_failed_totp_attempt(user_with_codes):
    user, codes = user_with_codes
    signed_in_with(user, codes[0])
    assert TOTPDevice.objects.get(user=user).throttling_failure_count == 0
    assert not SecurityEvent.objects.filter(user=user, kind="mfa_failed").exists()


def test_a_totp_code_still_works_beside_backup_codes(user_with_codes):
    user, _ = user_with_codes
    _, response = signed_in_with(user, current_code(user.totpdevice_set.get()))
    assert response.status_code == 302
    assert mfa.backup_codes_remaining(user) == 10


@pytest.mark.parametrize(("left_before", "warned"), [(3, True), (4, False), (1, True)])
def test_few_codes_left_warns_after_sign_in(user_with_codes, left_before, warned):
    user, codes = user_with_codes
    StaticToken.objects.filter(device__user=user).exclude(token__in=codes[:left_before]).delete()
    client, response = signed_in_with(user, codes[0])
    assert response.status_code == 302
    warnings = [m for m in get_messages(response.wsgi_request) if m.level == messages.WARNING]
    assert bool(warnings) is warned
    if warned:
        assert str(left_before - 1) in str(warnings[0])
        assert str(warnings[0]) in client.get(reverse("home")).content.decode()  # shown on the next page


def test_wrong_backup_codes_are_throttled(user_with_codes):
    user, codes = user_with_codes
    client = Client()
    password_login(client, user.username)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            clock.shift(timedelta(seconds=60))
            assert verify(client, "zzzzzzzzzz").status_code == 200
        device = StaticDevice.objects.get(user=user)
        assert device.throttling_failure_count == 3
        refused = verify(client, codes[0])  # the right code, during the back-off
        assert refused.status_code == 200
        assert "5" in str(refused.context["form"].errors["otp_token"])  # 2^(3-1) s + rounding up
        assert codes[0] in stored_codes(user)  # not spent by the refused try
        clock.shift(timedelta(seconds=2**2 + 1))
        assert verify(client, codes[0]).status_code == 302


HOSTILE = [
    "a" * 10_000,
    "abcde\x00fghij",
    "١٢٣٤٥٦",  # Arabic-Indic digits: int() would take them
    "ABCDE\u212aGHIJ",  # the Kelvin sign lowers to "k"
    "ＡＢＣＤＥＦＧＨＩＪ",
    "<script>alert(1)</script>",
    "abcdefghij'; DROP TABLE x;--",
    "   ",
    "12345",
    "1234567",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_input_at_verify_is_a_form_error_not_a_500(user_with_codes, hostile):
    user, _ = user_with_codes
    client = Client(raise_request_exception=False)
    password_login(client, user.username)
    response = client.post(reverse("accounts:mfa_verify"), {"otp_token": hostile})
    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]
    assert mfa.backup_codes_remaining(user) == 10
    assert StaticDevice.objects.get(user=user).throttling_failure_count == 0  # never reached a device


def test_invalid_utf8_at_verify_is_a_form_error_not_a_500(user_with_codes):
    user, _ = user_with_codes
    client = Client(raise_request_exception=False)
    password_login(client, user.username)
    body = "otp_token=%ED%A0%80abcdefgh%FF"  # a lone surrogate and a stray byte, percent-encoded
    response = client.post(reverse("accounts:mfa_verify"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]


def test_verify_page_hints_at_backup_codes(user_with_codes):
    user, _ = user_with_codes
    client = Client()
    password_login(client, user.username)
    body = client.get(reverse("accounts:mfa_verify")).content.decode()
    assert 'data-testid="backup-code-hint"' in body
    assert 'inputmode="numeric"' not in body  # letters must be typeable on a phone keyboard


# --- Enrolment shows the first set once ----------------------------------------------------------
def test_enrolment_shows_ten_codes_once_and_stores_them(make_user):
    user = make_user(mfa=False)
    client = Client()
    client.force_login(user)
    client.get(reverse("accounts:mfa_setup"))
    pending = TOTPDevice(user=user, key=client.session[mfa.PENDING_KEY])
    response = client.post(reverse("accounts:mfa_setup"), {"otp_token": current_code(pending)})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = shown_codes(response)
    assert len(codes) == 10 and set(codes) == stored_codes(user)
    body = response.content.decode()
    assert 'data-testid="backup-codes-write-down"' in body
    assert 'data-testid="backup-codes-stored"' in body
    assert not any(code in str(dict(client.session)) for code in codes)  # never kept in the session
    later = client.get(CODES_URL)
    assert later.status_code == 200
    assert not any(mfa.format_backup_code(code) in later.content.decode() for code in codes)
    assert SecurityEvent.objects.get(user=user, kind="mfa_backup_codes_issued").details == {
        "count": 10, "replaced": 0,
    }


# --- The backup-codes page -----------------------------------------------------------------------
def test_codes_page_is_no_store_linked_and_never_shows_codes(user_with_codes):
    user, codes = user_with_codes
    client = verified_client(user)
    page = client.get(CODES_URL)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    body = page.content.decode()
    assert not any(code in body or mfa.format_backup_code(code) in body for code in codes)
    assert "codes" not in page.context
    assert f'href="{CODES_URL}"' in client.get(reverse("accounts:sessions")).content.decode()
    assert f'href="{CODES_URL}"' in client.get(reverse("home")).content.decode()  # the user menu


def test_codes_page_needs_sign_in_and_the_otp_step(user_with_codes):
    user, _ = user_with_codes
    assert path_of(Client().get(CODES_URL)) == reverse("accounts:login")
    password_only = Client()
    password_only.force_login(user)
    assert path_of(password_only.post(CODES_URL, {"password": PASSWORD})) == reverse("accounts:mfa_verify")
    assert mfa.backup_codes_remaining(user) == 10


def test_regenerating_needs_csrf(user_with_codes):
    user, codes = user_with_codes
    client = verified_client(user, Client(enforce_csrf_checks=True))
    response = client.post(CODES_URL, {"password": PASSWORD})
    assert response.status_code == 403
    assert stored_codes(user) == set(codes)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"otp_token": "", "password": ""},
        {"password": "not the password at all"},
        {"otp_token": "abcdefghij"},  # a backup code is not a fresh confirmation
    ],
)
def test_regenerating_refuses_without_a_fresh_code_or_password(user_with_codes, data):
    user, codes = user_with_codes
    client = verified_client(user)
    response = client.post(CODES_URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "codes" not in response.context
    assert stored_codes(user) == set(codes)
    assert SecurityEvent.objects.filter(user=user, kind="mfa_backup_codes_issued").count() == 1


def test_regenerating_refuses_a_wrong_or_replayed_totp(user_with_codes):
    user, codes = user_with_codes
    device = user.totpdevice_set.get()
    with time_machine.travel(timezone.now(), tick=False):
        client = Client()
        password_login(client, user.username)
        code = current_code(device)
        assert verify(client, code).status_code == 302
        replayed = client.post(CODES_URL, {"otp_token": code})  # the code just used to sign in
        wrong = client.post(CODES_URL, {"otp_token": wrong_code(device)})
    assert replayed.status_code == wrong.status_code == 200
    assert replayed.context["form"].non_field_errors() and wrong.context["form"].non_field_errors()
    assert stored_codes(user) == set(codes)


def test_wrong_passwords_at_regeneration_count_towards_the_lockout(user_with_codes):
    """The password path goes through ``authenticate``: django-axes locks the (user, address) pair."""
    user, codes = user_with_codes
    client = verified_client(user)
    statuses = [client.post(CODES_URL, {"password": f"wrong passphrase {n}"}).status_code for n in range(5)]
    assert statuses[:4] == [200] * 4
    assert statuses[4] == 429
    assert client.post(CODES_URL, {"password": PASSWORD}).status_code == 429  # even the right one now
    assert stored_codes(user) == set(codes)
    assert password_login(Client(), user.username).status_code == 429


@pytest.mark.parametrize("how", ["totp", "password"])
def test_regenerating_with_a_fresh_code_or_password_shows_a_new_set_once(user_with_codes, how):
    user, old = user_with_codes
    client = verified_client(user)
    data = {"otp_token": current_code(user.totpdevice_set.get())} if how == "totp" else {"password": PASSWORD}
    response = client.post(CODES_URL, data)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = shown_codes(response)
    assert len(new) == 10 and set(new) == stored_codes(user)
    assert not set(new) & set(old)
    assert SecurityEvent.objects.filter(user=user, kind="mfa_backup_codes_issued").latest("id").details == {
        "count": 10, "replaced": 10,
    }
    assert not any(mfa.format_backup_code(code) in client.get(CODES_URL).content.decode() for code in new)


def test_codes_are_not_in_the_response_to_a_get_even_after_issuing(user_with_codes):
    """GET never issues: only a POST makes (and shows) codes."""
    user, codes = user_with_codes
    client = verified_client(user)
    client.get(CODES_URL)
    client.get(CODES_URL + "?otp_token=123456&password=x")
    assert stored_codes(user) == set(codes)


# --- Admin reset ---------------------------------------------------------------------------------
def test_admin_mfa_reset_removes_the_authenticator_and_the_backup_codes(user_with_codes, make_user, login):
    user, _ = user_with_codes
    admin_client = login(make_user("superuser"))
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_mfa", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert SecurityEvent.objects.filter(user=user, kind="mfa_device_removed").count() == 2
    client = Client()
    assert path_of(password_login(client, user.username)) == reverse("accounts:mfa_setup")


# --- Replacing a lost phone ----------------------------------------------------------------------
REPLACE_URL = "/accounts/mfa/replace/"


def test_signed_in_with_a_backup_code_the_user_replaces_the_authenticator(user_with_codes):
    """Lost phone: a backup code signs in, the password again removes the old authenticator,
    the new phone is enrolled; backup codes keep working and the old device is gone."""
    user, codes = user_with_codes
    old = TOTPDevice.objects.get(user=user)
    client, _response = signed_in_with(user, codes[0])
    assert "replace-authenticator-link" in client.get(CODES_URL).content.decode()
    refused = client.post(REPLACE_URL, {"password": "not-the-password"})
    assert refused.status_code == 200 and "password" in refused.context["form"].errors
    assert TOTPDevice.objects.filter(pk=old.pk).exists()
    done = client.post(REPLACE_URL, {"password": PASSWORD})
    assert path_of(done) == reverse("accounts:mfa_setup")
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert len(stored_codes(user)) == len(codes) - 1  # the backup codes stay
    assert SecurityEvent.objects.filter(user=user, kind="mfa_device_removed").exists()
    assert client.get(reverse("accounts:mfa_setup")).status_code == 200  # the new phone's QR code


def test_replacing_needs_a_verified_session(user_with_codes):
    user, _codes = user_with_codes
    client = Client()
    password_login(client, user.username)  # password only: the second step is still due
    assert path_of(client.post(REPLACE_URL, {"password": PASSWORD})) == reverse("accounts:mfa_verify")
    assert TOTPDevice.objects.filter(user=user).exists()
