"""Shared fixtures: users by role, MFA-verified clients, and a real Chromium through Playwright."""

from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import sync_role_groups
from tests.factories.accounts import (
    AgencyFactory,
    PostAssignmentFactory,
    UserFactory,
    confirmed_totp,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test databases may be emptied with TRUNCATE between transactional tests: tracked and
    history tables refuse it unless the session says ``frontera.truncate = on``
    (privacy.history_triggers), which only these throwaway databases set as their default."""
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor != "postgresql":
                continue
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {name} SET frontera.truncate = 'on'")
            connection.close()  # the database default applies to the next session


@pytest.fixture
def make_user(db):
    """make_user(role="registrar", places=[place], agency=agency, mfa=True) -> User."""

    def _make(role: str | None = "registrar", *, places=(), agency=None, mfa: bool = True, **kwargs):
        sync_role_groups()
        user = UserFactory(agency=agency or AgencyFactory(), **kwargs)
        if role == "superuser":
            user.is_superuser = user.is_staff = True
            user.save()
        elif role:
            user.groups.add(Group.objects.get(name=role))
            if role == "admin":
                user.is_staff = True
                user.save()
        for place in places:
            PostAssignmentFactory(user=user, place=place)
        if mfa:
            confirmed_totp(user)
        return user

    return _make


def verified_client(user, client: Client | None = None) -> Client:
    """A test client logged in as ``user`` with the MFA step done (as after a real TOTP check)."""
    client = client or Client()
    client.force_login(user)
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def login():
    return verified_client


# --- Browser ----------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_settings(settings):
    """live_server speaks plain HTTP: cookies cannot be Secure or __Host- prefixed there."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_NAME = "frontera_session"
    settings.CSRF_COOKIE_NAME = "csrftoken"
    settings.MFA_REQUIRED = True  # the login helper walks the TOTP step, whatever DEBUG says
    return settings


@pytest.fixture
def page(browser, browser_settings, live_server):
    context = browser.new_context(locale="es-MX", viewport={"width": 1024, "height": 768})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def browser_login(live_server):
    """Log a user in inside a browser page by the real login form, then the TOTP step."""

    def _login(page, user, password: str = PASSWORD):
        from django_otp.oath import totp

        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        device = user.totpdevice_set.filter(confirmed=True).first()
        if device is not None:
            page.wait_for_selector("input[name=otp_token]")
            page.fill("input[name=otp_token]", f"{totp(device.bin_key):06d}")
            page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    return _login
