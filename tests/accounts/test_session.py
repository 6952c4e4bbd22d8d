"""Session lifecycle: key rotation at login and MFA step-up, logout (SECURITY.md SE-1)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from qsessions.models import Session

from accounts.views import CLEAR_SITE_DATA
from tests.accounts.helpers import current_code, password_login, path_of, session_key, verify

pytestmark = pytest.mark.django_db


def test_session_key_changes_at_login(make_user):
    user = make_user()
    client = Client()
    session = client.session
    session["probe"] = "pre-login"
    session.save()
    before = session_key(client)
    password_login(client, user.username)
    assert before and session_key(client) and session_key(client) != before


def test_session_key_changes_at_mfa_step(make_user):
    user = make_user()
    client = Client()
    password_login(client, user.username)
    after_password = session_key(client)
    response = verify(client, current_code(user.totpdevice_set.get()))
    assert response.status_code == 302
    assert session_key(client) != after_password
    assert not Session.objects.filter(session_key=after_password).exists()


def test_logout_is_post_only(login, make_user):
    client = login(make_user())
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_logout_clears_session_and_site_data(login, make_user):
    client = login(make_user())
    old_cookie = session_key(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 200
    assert response["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert not Session.objects.filter(session_key=old_cookie).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    response = replay.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert path_of(response) == reverse("accounts:login")


def test_admin_logout_is_ours(login, make_user):
    client = login(make_user("admin"))
    response = client.post(reverse("admin:logout"))
    assert response["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert "_auth_user_id" not in client.session


def test_password_change_keeps_the_verified_session(login, make_user):
    user = make_user()
    client = login(user)
    new = "tortuga azul sobre el puente de hierro"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "correct horse battery staple", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password(new)
    assert client.get(reverse("accounts:password_change_done")).status_code == 200


def test_password_change_applies_validators(login, make_user):
    client = login(make_user())
    weak = "Frontera2026!!"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "correct horse battery staple", "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
