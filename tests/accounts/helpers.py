"""Small helpers for the accounts tests: the real login steps and TOTP codes."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from tests.conftest import PASSWORD

LOGIN_URL = "/accounts/login/"


def password_login(client: Client, username: str, password: str = PASSWORD, ip: str = "127.0.0.1"):
    """POST the login form (the password step only)."""
    data = {"username": username, "password": password}
    return client.post(reverse("accounts:login"), data, REMOTE_ADDR=ip)


def current_code(device, offset_steps: int = 0) -> str:
    """The device's TOTP code for now (or a neighbouring step)."""
    import time

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def wrong_code(device) -> str:
    """A code valid in none of the accepted steps (previous, current, next)."""
    valid = {current_code(device, step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(100000, 999999, 7919) if f"{n:06d}" not in valid)


def verify(client: Client, code: str, next_url: str = ""):
    """POST a code to the two-factor step."""
    data = {"otp_token": code, **({"next": next_url} if next_url else {})}
    return client.post(reverse("accounts:mfa_verify"), data)


def session_key(client: Client) -> str:
    """The session id the client would send now."""
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else ""


def path_of(response) -> str:
    """A redirect's target path, without the query string."""
    return response["Location"].split("?", 1)[0]
