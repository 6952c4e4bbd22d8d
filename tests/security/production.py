"""The settings a production process actually gets (DEBUG off), read from a fresh interpreter.

Test runs may export ``DEBUG=true`` (a developer shell, ``/tmp/testenv.sh``), which relaxes MFA,
cookies, HSTS and logging in the test process itself. Tests that prove the *production*
behaviour must not depend on that: they load the real values computed by ``config/settings.py``
under a production-like environment and apply them with pytest-django's ``settings`` fixture.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

# Settings that depend on DEBUG and that request handling reads at request time.
PRODUCTION_KEYS = (
    "DEBUG",
    "MFA_REQUIRED",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "LOG_JSON",
    "DJANGO_STRUCTLOG_IP_LOGGING_ENABLED",
)


def production_env(**changes: str) -> dict[str, str]:
    """The test keys with DEBUG off, HTTPS everywhere, a real host and a long random SECRET_KEY.

    DJANGO_ALLOW_ASYNC_UNSAFE is a test-runner setting (pytest-env); deployments never set it.
    """
    env = {
        **os.environ,
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "frontera.example.org",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_COOKIES": "true",
        "CSRF_TRUSTED_ORIGINS": "https://frontera.example.org",
    }
    for relaxed in ("DJANGO_ALLOW_ASYNC_UNSAFE", "MFA_REQUIRED", "LOG_JSON"):
        env.pop(relaxed, None)
    env.update(changes)
    return env


def run_python(
    args: list[str], env: dict[str, str], timeout: int = 180
) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@functools.cache
def production_settings() -> dict[str, object]:
    """``{name: value}`` for ``PRODUCTION_KEYS`` as a production process computes them."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {PRODUCTION_KEYS!r}}}))"
    )
    result = run_python(["-c", code], production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def apply_production(settings_fixture) -> dict[str, object]:
    """Set the production values on pytest-django's ``settings`` fixture; returns them."""
    values = production_settings()
    for key, value in values.items():
        setattr(settings_fixture, key, value)
    return values
