"""Startup configuration (SECURITY.md CF-2, DESIGN.md rule 8).

Each case starts a fresh interpreter with one variable broken and DEBUG off, and checks that
Django refuses to start with an error naming that variable (and not echoing key material).
"""

from __future__ import annotations

import ast
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

SETUP = "import django; django.setup()"


def base_env(**changes: str) -> dict[str, str]:
    """os.environ (the pytest-env test keys) with DEBUG off and the given changes.

    A variable "under test" is set blank rather than deleted: settings fill absent variables
    from a local .env (written by ``make run``), and blank counts as missing (``_required``).
    """
    env = {**os.environ, "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.update(changes)
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


FIELD_KEY = os.environ["FIELD_ENCRYPTION_KEYS"].split(":", 1)[1]
BLIND_KEY = os.environ["BLIND_INDEX_KEY"]

STARTUP_ERRORS = {
    "missing SECRET_KEY": ({"SECRET_KEY": ""}, ["SECRET_KEY"]),
    "missing FIELD_ENCRYPTION_KEYS": ({"FIELD_ENCRYPTION_KEYS": ""}, ["FIELD_ENCRYPTION_KEYS"]),
    "malformed FIELD_ENCRYPTION_KEYS": (
        {"FIELD_ENCRYPTION_KEYS": "k1:notbase64"},
        ["FIELD_ENCRYPTION_KEYS[k1] is not valid base64"],
    ),
    "BLIND_INDEX_KEY equal to a field key": (
        {"BLIND_INDEX_KEY": FIELD_KEY},
        ["BLIND_INDEX_KEY must differ from FIELD_ENCRYPTION_KEYS"],
    ),
    "missing PSEUDONYM_KEY": ({"PSEUDONYM_KEY": ""}, ["PSEUDONYM_KEY"]),
    "missing CARD_SIGNING_KEY with DEBUG off": ({"CARD_SIGNING_KEY": ""}, ["CARD_SIGNING_KEY"]),
    "key equal to SECRET_KEY": (
        {"SECRET_KEY": BLIND_KEY},
        ["BLIND_INDEX_KEY must not equal SECRET_KEY"],
    ),
}


@pytest.mark.parametrize("case", STARTUP_ERRORS, ids=list(STARTUP_ERRORS))
def test_startup_refuses_and_names_the_variable(case):
    changes, expected = STARTUP_ERRORS[case]
    result = run_python(["-c", SETUP], base_env(**changes))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for text in expected:
        assert text in result.stderr


def test_startup_errors_do_not_echo_key_material():
    result = run_python(["-c", SETUP], base_env(SECRET_KEY=BLIND_KEY))
    assert result.returncode != 0
    assert BLIND_KEY not in result.stderr


def test_card_signing_key_optional_in_debug():
    result = run_python(["-c", SETUP], base_env(DEBUG="true", CARD_SIGNING_KEY=""))
    assert result.returncode == 0, result.stderr


def test_valid_test_environment_starts():
    """The control case: the same harness with nothing broken exits 0."""
    result = run_python(["-c", SETUP], base_env())
    assert result.returncode == 0, result.stderr


def production_env() -> dict[str, str]:
    """DEBUG off, HTTPS everywhere, a real host name and a long random SECRET_KEY.

    DJANGO_ALLOW_ASYNC_UNSAFE is a test-runner setting (pytest-env); deployments never set it.
    """
    env = base_env(
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="frontera.example.org",
        SECURE_SSL_REDIRECT="true",
        SECURE_COOKIES="true",
        CSRF_TRUSTED_ORIGINS="https://frontera.example.org",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def test_check_deploy_passes_with_production_settings():
    args = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = run_python(args, production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_debug_on():
    """The gate can fail: DEBUG on (with its relaxed defaults) is reported."""
    args = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = run_python(args, {**production_env(), "DEBUG": "true"})
    assert result.returncode != 0
    assert "security.W018" in result.stderr


@pytest.mark.parametrize(("value", "prepared"), [("", True), ("false", False)])
def test_prepared_statements_can_be_turned_off_for_a_pooler(value, prepared):
    """``DATABASE_PREPARED_STATEMENTS`` (default on) gives psycopg a prepare threshold and the
    server generic plans; off, neither (a transaction-mode pooler cannot keep them)."""
    code = SETUP + "; from django.conf import settings; print(sorted(settings.DATABASES['default']['OPTIONS'].items()))"
    env = base_env(DATABASE_URL="postgres://u@127.0.0.1:5432/x?options=-c%20search_path%3Dpublic",
                   DATABASE_PREPARED_STATEMENTS=value)
    if not value:
        env.pop("DATABASE_PREPARED_STATEMENTS")
    done = run_python(["-c", code], env)
    assert done.returncode == 0, done.stderr
    options = dict(ast.literal_eval(done.stdout))
    assert ("prepare_threshold" in options) is prepared
    assert options["options"] == ("-c search_path=public -c plan_cache_mode=force_generic_plan" if prepared
                                  else "-c search_path=public")
