"""Report parameters: one validation for the request form, the command and the schedules.

Errors are ``ValidationError`` keyed by field (``kind``, ``date_from``, ``date_to``,
``places``, ``formats``), so the form shows them next to the field and ``run_report`` names
the option. Nothing is queued unless every check passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from crossings.models import Place
from reports.kinds import KINDS, can_run, partner_agreement

GROUPINGS = ("place", "all")


@dataclass(frozen=True)
class ReportParams:
    """Validated parameters. ``places`` are place codes (empty: every place), sorted."""

    date_from: dt.date
    date_to: dt.date
    places: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    grouping: str = "place"
    language: str = "es"
    extra: dict = field(default_factory=dict, compare=False)

    def as_json(self) -> dict:
        """The canonical JSON stored on the run and hashed into its fingerprint."""
        return {
            "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
            "places": list(self.places), "formats": list(self.formats), "grouping": self.grouping,
            "language": self.language,
        }

    @classmethod
    def from_json(cls, data: dict) -> ReportParams:
        return cls(
            date_from=dt.date.fromisoformat(data["date_from"]), date_to=dt.date.fromisoformat(data["date_to"]),
            places=tuple(data.get("places") or ()), formats=tuple(data.get("formats") or ()),
            grouping=data.get("grouping", "place"), language=data.get("language", "es"),
        )

    def place_ids(self) -> list:
        return list(Place.objects.filter(code__in=self.places).values_list("pk", flat=True))


def _period_errors(date_from, date_to) -> dict[str, str]:
    if date_from is None or date_to is None:
        return {"date_from" if date_from is None else "date_to": _("Enter a date.")}
    if date_to < date_from:
        return {"date_to": _("The end of the period is before its start.")}
    span = (date_to - date_from).days + 1
    if span > settings.REPORT_MAX_DAYS:
        return {"date_to": _("The period is %(span)d days long; the maximum is %(max)d days.")
                % {"span": span, "max": settings.REPORT_MAX_DAYS}}
    return {}


def _place_errors(codes) -> dict[str, str]:
    known = set(Place.objects.filter(code__in=list(codes)).values_list("code", flat=True))
    unknown = sorted(set(codes) - known)
    if unknown:
        return {"places": _("Unknown place: %(codes)s.") % {"codes": ", ".join(unknown[:5])}}
    return {}


def _partner_places(agreement, codes) -> tuple[tuple[str, ...], dict[str, str]]:
    """A partner's report covers its agreement's places only: none given means all of them;
    a code outside the agreement is refused like an unknown one (nothing about it leaks)."""
    covered = set(agreement.visible_places().values_list("code", flat=True))
    if not covered:
        return (), {"places": _("Your data-sharing agreement covers no place.")}
    outside = sorted(set(codes) - covered)
    if outside:
        return tuple(codes), {"places": _("Unknown place or outside your agreement: %(codes)s.") % {"codes": ", ".join(outside[:5])}}
    return tuple(codes or covered), {}


def _format_errors(kind: str, formats) -> dict[str, str]:
    offered = KINDS[kind].formats
    if not formats:
        return {"formats": _("Choose at least one format.")}
    bad = [f for f in formats if f not in offered]
    if bad:
        return {"formats": _("Format not offered for this report: %(bad)s (offered: %(offered)s).")
                % {"bad": ", ".join(bad), "offered": ", ".join(offered)}}
    return {}


def validate(user, kind: str, *, date_from, date_to, places=(), formats=(), grouping="place", language=None) -> ReportParams:
    """Check everything at once; raise ``ValidationError`` with every field error."""
    if kind not in KINDS:
        raise ValidationError({"kind": _("Unknown report kind.")})
    if user is not None and not can_run(user, kind):
        raise ValidationError({"kind": _("You may not run this report.")})
    if KINDS[kind].postgres_only and connection.vendor != "postgresql":
        raise ValidationError({"kind": _("This report needs the PostgreSQL database; the SQLite demo cannot build it.")})
    agreement = partner_agreement(user) if user is not None else None
    if agreement is not None:
        places, place_errors = _partner_places(agreement, places)
    else:
        place_errors = _place_errors(places)
    errors = {**_period_errors(date_from, date_to), **place_errors, **_format_errors(kind, formats)}
    if grouping not in GROUPINGS:
        errors["grouping"] = _("Choose a grouping.")
    if errors:
        raise ValidationError(errors)
    language = language or getattr(user, "preferred_language", None) or settings.LANGUAGE_CODE
    return ReportParams(
        date_from=date_from, date_to=date_to, places=tuple(sorted(set(places))),
        formats=tuple(f for f in KINDS[kind].formats if f in formats), grouping=grouping, language=language,
    )
