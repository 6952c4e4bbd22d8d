"""Controlled vocabularies of transit: event kinds, directions, modes, sources, head-count cells."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    BOARDING = "boarding", _("Boarding")
    ALIGHTING = "alighting", _("Alighting")
    SHELTER_CHECK_IN = "shelter_in", _("Shelter check-in")
    SHELTER_CHECK_OUT = "shelter_out", _("Shelter check-out")
    RETURN = "return", _("Return")


# Kinds that end a stay opened by an entry (a return takes the person out of the country too).
EXIT_KINDS = (EventKind.EXIT, EventKind.RETURN)


class Direction(models.TextChoices):
    NORTHBOUND = "north", _("Northbound")
    SOUTHBOUND = "south", _("Southbound")


class Mode(models.TextChoices):
    FOOT = "foot", _("On foot")
    VEHICLE = "vehicle", _("Vehicle")
    RIVER = "river", _("River")
    TRAIN = "train", _("Train")


class Source(models.TextChoices):
    FORM = "form", _("Form")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    CARD_SCAN = "card_scan", _("Card scan")


class FlagReason(models.TextChoices):
    NONE = "", _("Not flagged")
    EXIT_WITHOUT_ENTRY = "exit_without_entry", _("Exit without a recorded entry")


# Sex × age bracket cells of an anonymous head count (REFERENCE_DATA d5, the Primero scheme).
HEAD_COUNT_SEXES = (("f", _("Female")), ("m", _("Male")), ("x", _("Other")))
AGE_BRACKETS = (
    ("0_4", _("0–4")),
    ("5_11", _("5–11")),
    ("12_17", _("12–17")),
    ("18_59", _("18–59")),
    ("60", _("60+")),
)
CHILD_BRACKETS = ("0_4", "5_11", "12_17")


def count_field(sex: str, bracket: str) -> str:
    """The model field holding one cell of a head count, e.g. ``f_0_4``."""
    return f"{sex}_{bracket}"


COUNT_FIELDS = tuple(count_field(s, b) for s, _label in HEAD_COUNT_SEXES for b, _bl in AGE_BRACKETS)
