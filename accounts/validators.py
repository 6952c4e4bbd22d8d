"""Password rules beyond Django's own (SECURITY.md AU-3): no words tied to the service.

A password that contains the service's name, the migration authority, a partner agency's name or
code, or the user's own username is the first thing an attacker tries at a border post.
Comparison ignores case, accents, spaces and punctuation: "Migración", "MIGRACION" and
"migra-cion" are the same word here.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_CONTEXT_WORDS = ("frontera", "migracion", "migration", "inm")
MIN_WORD_LENGTH = 3


def fold(value: str) -> str:
    """Lower-case, strip accents and everything that is not a letter or digit."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", bare.casefold())


def agency_words() -> list[str]:
    """Every agency's name and code, active or not (the database is the list)."""
    from accounts.models import Agency

    words: list[str] = []
    for code, name in Agency.objects.values_list("code", "name"):
        words.extend([code, name])
    return words


class ContextWordsValidator:
    """Reject passwords containing service, agency or username words (case/accent-insensitive)."""

    def __init__(self, words: list[str] | tuple[str, ...] | None = None) -> None:
        self.words = tuple(words) if words is not None else DEFAULT_CONTEXT_WORDS

    def context_words(self, user=None) -> list[str]:
        """The words this password is checked against, folded, longest first."""
        words = [*self.words, *agency_words()]
        if user is not None and getattr(user, "username", ""):
            words.append(user.username)
        folded = {fold(word) for word in words}
        return sorted((w for w in folded if len(w) >= MIN_WORD_LENGTH), key=len, reverse=True)

    def validate(self, password: str, user=None) -> None:
        folded = fold(password)
        for word in self.context_words(user):
            if word in folded:
                raise ValidationError(
                    _(
                        "This password contains “%(word)s”, a word tied to this service, "
                        "a partner agency or your username. Choose a passphrase unrelated to your work."
                    ),
                    code="password_context_word",
                    params={"word": word},
                )

    def get_help_text(self) -> str:
        return _(
            "Your password can’t contain the service’s name, an agency’s name or code, "
            "or your username."
        )
