"""Ending sessions (SECURITY.md SE-3): deactivation, credential changes, the admin kill switch."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from qsessions.models import Session

from accounts.models import SecurityEvent
from tests.accounts.helpers import path_of, session_key
from tests.conftest import PASSWORD, verified_client
from tests.factories.accounts import AgencyFactory

pytestmark = pytest.mark.django_db

PAGE = "/accounts/password/"


def signed_out(client: Client) -> bool:
    response = client.get(PAGE)
    return response.status_code == 302 and path_of(response) == reverse("accounts:login")


def test_sessions_are_stored_with_their_user(login, make_user):
    user = make_user()
    client = login(user)
    row = Session.objects.get(session_key=session_key(client))
    assert row.user == user


def test_deactivating_a_user_ends_all_their_sessions_at_once(make_user):
    user, bystander = make_user(), make_user()
    first, second, other = verified_client(user), verified_client(user), verified_client(bystander)
    user.is_active = False
    user.save()
    assert not Session.objects.filter(user=user).exists()
    assert signed_out(first) and signed_out(second)
    assert not signed_out(other)
    event = SecurityEvent.objects.get(kind="sessions_ended", user=user)
    assert event.details == {"reason": "user_deactivated", "count": 2}


def test_deactivating_an_agency_ends_its_staff_sessions(make_user):
    agency, elsewhere = AgencyFactory(), AgencyFactory()
    staff, outsider = make_user(agency=agency), make_user(agency=elsewhere)
    staff_client, outsider_client = verified_client(staff), verified_client(outsider)
    agency.is_active = False
    agency.save()
    assert not Session.objects.filter(user=staff).exists()
    assert signed_out(staff_client)
    assert not signed_out(outsider_client)


def test_staff_of_an_inactive_agency_cannot_keep_using_a_new_session(make_user):
    agency = AgencyFactory(is_active=False)
    client = verified_client(make_user(agency=agency))  # e.g. signed in right after deactivation
    assert signed_out(client)


def test_password_change_ends_the_other_sessions_only(make_user):
    user = make_user()
    here, elsewhere = verified_client(user), verified_client(user)
    new = "tortuga azul sobre el puente de hierro"
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert Session.objects.filter(user=user).count() == 1
    assert signed_out(elsewhere)
    assert here.get(PAGE).status_code == 200
    assert SecurityEvent.objects.get(kind="password_changed", user=user).details == {"sessions_ended": 1}


def test_sessions_page_lists_and_ends_the_other_sessions(make_user):
    user = make_user()
    here, elsewhere = verified_client(user), verified_client(user)
    page = here.get(reverse("accounts:sessions"))
    assert page.status_code == 200
    assert [s.session_key for s in page.context["sessions"]] == [session_key(elsewhere)]
    response = here.post(reverse("accounts:sessions"))
    assert response.status_code == 302
    assert signed_out(elsewhere)
    assert here.get(PAGE).status_code == 200


def test_sessions_page_needs_a_signed_in_user(client, db):
    assert path_of(client.get(reverse("accounts:sessions"))) == reverse("accounts:login")


def test_mfa_enrolment_offers_to_end_other_sessions(make_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import mfa
    from tests.accounts.helpers import current_code

    user = make_user(mfa=False)
    elsewhere, here = Client(), Client()
    elsewhere.force_login(user)
    here.force_login(user)
    here.get(reverse("accounts:mfa_setup"))
    code = current_code(TOTPDevice(user=user, key=here.session[mfa.PENDING_KEY]))
    response = here.post(reverse("accounts:mfa_setup"), {"otp_token": code})
    assert response.context["continue_url"].split("?", 1)[0] == reverse("accounts:sessions")  # after the backup codes
    here.post(reverse("accounts:sessions"))
    assert signed_out(elsewhere)


def test_cached_sessions_are_dropped_from_the_cache_too(settings, make_user):
    settings.SESSION_ENGINE = "qsessions.backends.cached_db"
    user = make_user()
    client = verified_client(user)
    assert client.get(PAGE).status_code == 200
    key = session_key(client)
    assert cache.get(f"qsessions.q_cached_db{key}") is not None
    user.is_active = False
    user.save()
    assert cache.get(f"qsessions.q_cached_db{key}") is None
    assert signed_out(client)


# --- Admin kill switch ---------------------------------------------------------------------------
def test_admin_lists_a_users_sessions_without_their_keys(make_user):
    admin_client = verified_client(make_user("admin"))
    target = make_user()
    target_client = verified_client(target)
    url = reverse("admin:qsessions_session_changelist") + f"?q={target.username}"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(Session.objects.filter(user=target))
    assert session_key(target_client) not in response.content.decode()


def test_admin_action_ends_all_sessions_of_selected_users(make_user):
    admin_client = verified_client(make_user("admin"))
    target = make_user()
    target_client = verified_client(target)
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "end_all_sessions", "_selected_action": [str(target.pk)]},
    )
    assert response.status_code == 302
    assert signed_out(target_client)
    assert SecurityEvent.objects.get(kind="sessions_ended", user=target).details["reason"] == "admin"


def test_admin_cannot_open_a_session_by_its_key(make_user):
    admin_client = verified_client(make_user("admin"))
    target_client = verified_client(make_user())
    url = reverse("admin:qsessions_session_change", args=[session_key(target_client)])
    assert admin_client.get(url).status_code in (302, 403)
    assert not signed_out(target_client)


def test_non_admin_staff_cannot_see_sessions(make_user):
    auditor = make_user("auditor", is_staff=True)
    response = verified_client(auditor).get(reverse("admin:qsessions_session_changelist"))
    assert response.status_code == 403
