"""Reason codes of a match and their labels. Codes are stored (stable across languages and
releases); labels are translated only when shown."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LABELS = {
    "same_names": _("same names"),
    "names_reordered": _("names in another order"),
    "similar_names": _("similar names"),
    "same_given_names": _("same given names"),
    "given_name_nickname": _("a nickname of the same given name"),
    "given_names_partial": _("part of the given names in common"),
    "given_names_similar": _("given names spelled differently"),
    "given_names_differ": _("different given names"),
    "same_surnames": _("same surnames"),
    "surnames_similar": _("surnames spelled differently"),
    "surnames_swapped": _("first and second surnames swapped"),
    "surname_missing": _("one surname missing"),
    "one_surname_differs": _("one surname differs"),
    "surnames_differ": _("different surnames"),
    "same_birth_date": _("same date of birth"),
    "birth_day_month_transposed": _("day and month of birth transposed"),
    "birth_date_differs": _("different day of birth in the same year"),
    "same_birth_year": _("same year of birth"),
    "close_birth_year": _("close year of birth"),
    "same_sex": _("same sex"),
    "different_sex": _("different sex recorded"),
    "same_nationality": _("same nationality"),
    "different_nationality": _("different nationality"),
    "same_document": _("same identity document"),
    "different_document": _("different number for the same kind of document"),
    "same_travel_group": _("in the same travel group"),
}

# Reasons stored before codes existed (English source or Spanish translation) -> code.
LEGACY = {
    "same names": "same_names", "mismos nombres": "same_names",
    "similar names": "similar_names", "nombres parecidos": "similar_names",
    "names in another order": "names_reordered", "nombres en otro orden": "names_reordered",
    "same year of birth": "same_birth_year", "mismo año de nacimiento": "same_birth_year",
    "close year of birth": "close_birth_year", "año de nacimiento cercano": "close_birth_year",
    "same date of birth": "same_birth_date", "misma fecha de nacimiento": "same_birth_date",
    "day and month of birth transposed": "birth_day_month_transposed",
    "día y mes de nacimiento invertidos": "birth_day_month_transposed",
    "different sex recorded": "different_sex", "sexo registrado distinto": "different_sex",
}


def label(code: str) -> str:
    """The translated label of a code; an unknown code is shown as it is."""
    return str(LABELS.get(code, code))


def labels(codes) -> list[str]:
    return [label(code) for code in codes or ()]


def to_code(stored: str) -> str:
    """A stored reason as a code (legacy translated strings are mapped back)."""
    return stored if stored in LABELS else LEGACY.get(stored, stored)
