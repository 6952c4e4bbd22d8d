"""Every state-changing accounts form refuses a POST without a CSRF token (SECURITY.md SE-2)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.accounts.helpers import wrong_code
from tests.conftest import PASSWORD, verified_client

pytestmark = pytest.mark.django_db


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_login_without_token_is_403(make_user):
    user = make_user()
    response = csrf_client().post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403


def test_login_with_token_passes_csrf(make_user):
    user = make_user()
    client = csrf_client()
    client.get(reverse("accounts:login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    data = {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert client.post(reverse("accounts:login"), data).status_code == 302


@pytest.mark.parametrize("name", ["accounts:logout", "accounts:password_change", "admin:logout"])
def test_verified_session_post_without_token_is_403(make_user, name):
    client = verified_client(make_user("admin"), csrf_client())
    assert client.post(reverse(name), {}).status_code == 403
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("name", ["accounts:mfa_verify", "accounts:mfa_setup"])
def test_mfa_steps_without_token_are_403(make_user, name):
    client = csrf_client()
    client.force_login(make_user(mfa=name == "accounts:mfa_verify"))
    assert client.post(reverse(name), {"otp_token": "123456"}).status_code == 403


def test_mfa_verify_with_token_passes_csrf(make_user):
    user = make_user()
    client = csrf_client()
    client.force_login(user)
    page = client.get(reverse("accounts:mfa_verify"))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    data = {"otp_token": wrong_code(user.totpdevice_set.get()), "csrfmiddlewaretoken": token}
    response = client.post(reverse("accounts:mfa_verify"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]
