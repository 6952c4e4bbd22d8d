"""Rules about a person's identity data that several services share: names, birth, age,
the blind-index terms of the names, and the child-protection status derived from a group."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pycountry
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.blind_index import name_index_terms
from registry.models import GroupMembership, Person, PersonNameTerm
from registry.validators import clean_name
from registry.vocabulary import ADULT_AGE, BirthPrecision, ChildProtection, Relationship

EARLIEST_BIRTH_YEAR = 1900
MAX_ESTIMATED_AGE = 110
NAME_FIELDS = ("given_names", "first_surname", "second_surname")


@dataclass
class Birth:
    date: dt.date | None
    year: int | None
    precision: str


def clean_names(data: dict) -> dict:
    """NFC, spaces collapsed, forbidden characters refused; errors keyed by field."""
    errors: dict[str, list] = {}
    cleaned: dict = {}
    for field in NAME_FIELDS:
        value = data.get(field) or ""
        if field == "given_names" and not value.strip():
            errors[field] = [ValidationError(_("At least one name is required."), code="required")]
            continue
        try:
            cleaned[field] = clean_name(value) if value else ""
        except ValidationError as exc:
            errors[field] = exc.error_list
    aliases = []
    for alias in data.get("aliases") or []:
        try:
            aliases.append(clean_name(alias))
        except ValidationError as exc:
            errors.setdefault("aliases", []).extend(exc.error_list)
    cleaned["aliases"] = aliases
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_birth(
    *, precision: str, birth_date: dt.date | None = None, birth_year: int | None = None,
    age: int | None = None, on: dt.date | None = None,
) -> Birth:
    """Validate a date of birth given exactly, as a year, or as an estimated age on a date."""
    on = on or timezone.localdate()
    if precision == BirthPrecision.EXACT:
        if birth_date is None:
            raise ValidationError({"birth_date": _("Enter the date of birth, or choose 'year only' or 'estimated'.")})
        _check_year(birth_date.year, "birth_date", on)
        if birth_date > on:
            raise ValidationError({"birth_date": _("The date of birth cannot be after the registration date.")})
        return Birth(birth_date, birth_date.year, precision)
    if precision == BirthPrecision.YEAR:
        if birth_year is None:
            raise ValidationError({"birth_year": _("Enter the year of birth.")})
        _check_year(birth_year, "birth_year", on)
        return Birth(None, birth_year, precision)
    if precision == BirthPrecision.ESTIMATED:
        if age is None or not 0 <= age <= MAX_ESTIMATED_AGE:
            raise ValidationError({"age": _("Enter an estimated age between 0 and %(max)d.") % {"max": MAX_ESTIMATED_AGE}})
        return Birth(None, on.year - age, precision)
    raise ValidationError({"birth_precision": _("Choose how the date of birth is known.")})


def _check_year(year: int, field: str, on: dt.date) -> None:
    if year < EARLIEST_BIRTH_YEAR:
        raise ValidationError({field: _("The year of birth cannot be before %(year)d.") % {"year": EARLIEST_BIRTH_YEAR}})
    if year > on.year:
        raise ValidationError({field: _("The date of birth cannot be in the future.")})


def clean_languages(codes: list[str]) -> list[str]:
    """ISO 639-3 codes, lower-case, each known to pycountry, in the given order without repeats."""
    result: list[str] = []
    for code in codes or []:
        code = (code or "").strip().lower()
        if pycountry.languages.get(alpha_3=code) is None:
            raise ValidationError({"languages": _("Unknown language code %(code)s.") % {"code": code}})
        if code not in result:
            result.append(code)
    return result


def age_on(person: Person, on: dt.date | None = None) -> int | None:
    """Age in whole years on a date; from the year alone when that is all that is known."""
    on = on or timezone.localdate()
    if person.birth_date:
        born = person.birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if person.birth_year:
        return on.year - person.birth_year
    return None


def is_minor(person: Person, on: dt.date | None = None) -> bool:
    age = age_on(person, on)
    return age is not None and age < ADULT_AGE


def name_terms(person: Person) -> set[str]:
    """The blind-index name terms of a person's names and aliases."""
    return name_index_terms(person.given_names, person.first_surname, person.second_surname, *person.aliases)


def reindex_names(person: Person) -> None:
    """Replace the person's blind-index name terms (call after any change of names/aliases)."""
    terms = name_terms(person)
    PersonNameTerm.objects.filter(person=person).exclude(term__in=terms).delete()
    existing = set(PersonNameTerm.objects.filter(person=person).values_list("term", flat=True))
    PersonNameTerm.objects.bulk_create(
        [PersonNameTerm(person=person, term=t) for t in sorted(terms - existing)], ignore_conflicts=True
    )


_PARENTAL_TO_CHILD = {Relationship.HEAD, Relationship.SPOUSE}


def child_protection_status(person: Person, on: dt.date | None = None) -> str | None:
    """Accompanied, separated or unaccompanied for a child; None for adults and unknown ages.

    The definitions of CRC General Comment No. 6 (UNHCR, IOM) and Mexico's Ley de Migración
    art. 3: with a parent (head or spouse of the head for the head's children, 'parent' of the
    head) or a documented legal guardian, accompanied; without them but with an adult
    relative, separated; with no adult, or with unrelated adults only, unaccompanied. A child
    in no group is unaccompanied.
    """
    if not is_minor(person, on):
        return None
    membership = GroupMembership.objects.filter(person=person).select_related("group").order_by("-joined_at").first()
    if membership is None:
        return ChildProtection.UNACCOMPANIED
    others = GroupMembership.objects.filter(group=membership.group).exclude(person=person).select_related("person")
    return status_in_group(person, membership, list(others), on)


def status_in_group(person: Person, membership: GroupMembership | None, others: list, on: dt.date | None = None) -> str | None:
    """``child_protection_status`` from the person's latest membership and the other members
    of that group (``GroupMembership`` rows with their ``person``), without a query."""
    if not is_minor(person, on):
        return None
    if membership is None:
        return ChildProtection.UNACCOMPANIED
    adults = [m for m in others if (age_on(m.person, on) or 0) >= ADULT_AGE]
    if not adults:
        return ChildProtection.UNACCOMPANIED
    if any(_is_parent_or_guardian(adult, membership) for adult in adults):
        return ChildProtection.ACCOMPANIED
    if any(_is_relative(adult, membership) for adult in adults):
        return ChildProtection.SEPARATED
    return ChildProtection.UNACCOMPANIED  # an unrelated adult is not family: the child is alone


def _is_parent_or_guardian(adult: GroupMembership, child: GroupMembership) -> bool:
    if adult.is_legal_guardian:
        return True
    if child.relationship == Relationship.CHILD and adult.relationship in _PARENTAL_TO_CHILD:
        return True
    return child.relationship == Relationship.HEAD and adult.relationship == Relationship.PARENT


def _is_relative(adult: GroupMembership, child: GroupMembership) -> bool:
    """Both are family of the head (or one is the head): the adult is a relative of the child."""
    return Relationship.UNRELATED not in (adult.relationship, child.relationship)
