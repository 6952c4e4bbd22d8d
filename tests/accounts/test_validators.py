"""Password policy (SECURITY.md AU-3): length, common passwords, context words, no composition."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.validators import ContextWordsValidator, fold
from tests.factories.accounts import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSPHRASE_64 = "tortuga azul sobre el puente de hierro cuando llueve en la selva"


def codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


def test_eleven_characters_rejected():
    assert "password_too_short" in codes("kq7#Lm2@vRz")


def test_sixty_four_characters_accepted():
    assert len(PASSPHRASE_64) == 64
    assert codes(PASSPHRASE_64, UserFactory()) == set()


def test_no_composition_rules_lowercase_words_are_fine():
    assert codes("cacao maiz frijol chile") == set()


def test_common_password_rejected():
    assert "password_too_common" in codes("qwertyqwerty")


@pytest.mark.parametrize(
    "password",
    ["frontera2026...", "Frontera2026!", "migracion123456", "MIGRACIÓN-del-sur", "mi-grá-ción segura 9", "elINMsabe2026"],
)
def test_context_words_rejected(password):
    assert "password_context_word" in codes(password)


def test_agency_names_and_codes_rejected():
    AgencyFactory(code="cdm-belen", name="Casa del Migrante Belén")
    assert "password_context_word" in codes("casa del migrante belen 2026")
    assert "password_context_word" in codes("CasaDelMigranteBELÉN!")
    assert "password_context_word" in codes("xx cdmbelen yy zz ww")


def test_username_rejected_case_insensitively():
    user = UserFactory(username="jperez.tapachula")
    assert "password_context_word" in codes("llave JPEREZ-Tapachula larga", user)


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("Migración-Sur 2026") == "migracionsur2026"


def test_help_text_and_message_are_translatable():
    validator = ContextWordsValidator()
    with translation.override("en"):
        english = validator.get_help_text()
    assert "agency" in english
    with pytest.raises(ValidationError) as exc:
        validator.validate("frontera-larga-2026")
    assert exc.value.error_list[0].params == {"word": "frontera"}
