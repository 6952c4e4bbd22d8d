"""The real login form in Chromium: password, then the TOTP step (the conftest helper's path)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_login_reaches_a_verified_page(page, browser_login, make_user, live_server, settings):
    settings.MFA_REQUIRED = True
    user = make_user()
    browser_login(page, user)
    page.goto(f"{live_server.url}/accounts/password/")
    assert page.locator("input[name=new_password1]").count() == 1
