"""Session cookie attributes (SECURITY.md SE-2) with the qsessions engine."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.accounts.helpers import password_login

pytestmark = pytest.mark.django_db


def test_session_cookie_is_host_prefixed_secure_httponly_lax(make_user, production):
    """With production settings (DEBUG off), whatever the shell running the tests exports."""
    response = password_login(Client(), make_user().username)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_COOKIE_NAME.startswith("__Host-")
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/" and not cookie["domain"]
    assert not cookie["max-age"]  # a browser-session cookie; the server enforces 8 h and 15 min


def test_session_engine_is_qsessions():
    assert settings.SESSION_ENGINE.startswith("qsessions.backends.")
    assert "qsessions" in settings.INSTALLED_APPS
    assert "django.contrib.sessions" not in settings.INSTALLED_APPS
    assert "qsessions.middleware.SessionMiddleware" in settings.MIDDLEWARE
