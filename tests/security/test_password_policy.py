"""Password policy (SECURITY.md AU-3): the exact cases of the requirement, plus no expiry.

tests/accounts/test_validators.py covers the validator in depth; this file pins the
requirement's own examples.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from tests.accounts.helpers import password_login
from tests.factories.accounts import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


def test_eleven_characters_rejected_twelve_accepted():
    eleven = "vgk quiet p"
    assert len(eleven) == 11
    assert "password_too_short" in codes(eleven)
    assert codes("vgk quiet p1") == set()  # twelve


def test_sixty_four_characters_accepted():
    phrase = "ocho palabras sueltas para una frase de paso larga sin reglas xy"
    assert len(phrase) == 64
    assert codes(phrase, UserFactory()) == set()


@pytest.mark.parametrize("password", ["frontera2026", "frontera2026!!", "migracion123", "migracion12345"])
def test_service_words_rejected(password):
    assert "password_context_word" in codes(password)


def test_agency_names_rejected():
    AgencyFactory(code="acnur-tap", name="ACNUR Tapachula")
    assert "password_context_word" in codes("acnur tapachula oficina")


@pytest.mark.parametrize("password", ["password1234", "123456789012", "qwertyqwerty"])
def test_common_list_enforced(password):
    assert codes(password) & {"password_too_common", "password_entirely_numeric"}


def test_no_composition_rules():
    assert codes("solo minusculas y espacios") == set()
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert not any("Composition" in n or "Complex" in n for n in names)


def test_no_expiry_a_two_year_old_password_still_works(make_user):
    user = make_user()
    with time_machine.travel(timezone.now() + timedelta(days=730)):
        response = password_login(Client(), user.username)
    assert response.status_code == 302  # on to the MFA step, not to a "password expired" page
