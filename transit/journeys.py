"""A person's journey: registrations, transit events, referrals and permits in time order,
with the places they touched, for ``templates/transit/_journey.html``.

The caller has already scoped the person (``Person.objects.visible_to``) and written the
access-log row; this module only reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from crossings.models import Place
from crossings.views import map_point
from transit.models import Permit, TransitEvent


@dataclass
class JourneyItem:
    """One step of the timeline. ``place`` may be None (a referral to an agency)."""

    at: dt.datetime
    category: str  # registration | event | referral | permit
    title: str
    place: Place | None = None
    detail: str = ""
    flagged: bool = False
    icon: str = "dot"


@dataclass
class Journey:
    person: object
    items: list[JourneyItem] = field(default_factory=list)

    @property
    def map_points(self) -> list[dict]:
        """Drawable places in the order first visited (high and medium confidence only)."""
        seen: dict = {}
        for item in self.items:
            place = item.place
            if place is not None and place.pk not in seen and place.has_precise_coordinates:
                seen[place.pk] = {**map_point(place), "step": len(seen) + 1}
        return list(seen.values())

    @property
    def path(self) -> list[list[float]]:
        """The travelled line: consecutive precise places of events, repeats collapsed."""
        line: list[list[float]] = []
        for item in self.items:
            if item.place is not None and item.place.has_precise_coordinates:
                point = [float(item.place.latitude), float(item.place.longitude)]
                if not line or line[-1] != point:
                    line.append(point)
        return line


def _registrations(person) -> list[JourneyItem]:
    return [
        JourneyItem(r.registered_at, "registration", str(_("Registered")), r.place, r.get_status_display(), icon="person-vcard")
        for r in person.registrations.select_related("place")
    ]


def _events(person) -> list[JourneyItem]:
    events = TransitEvent.objects.filter(person=person).select_related("place")
    return [
        JourneyItem(
            e.occurred_at, "event", e.get_kind_display(), e.place,
            " · ".join(str(x) for x in (e.get_direction_display(), e.get_mode_display()) if x),
            flagged=e.flagged, icon="arrow-left-right",
        )
        for e in events
    ]


def _referrals(person) -> list[JourneyItem]:
    return [
        JourneyItem(r.created_at, "referral", str(_("Referred: %(service)s") % {"service": r.get_service_display()}),
                    r.to_place, r.get_status_display(), icon="signpost")
        for r in person.referrals.select_related("to_place")
    ]


def _permits(person) -> list[JourneyItem]:
    return [
        JourneyItem(p.issued_at, "permit", p.get_kind_display(), p.issued_place,
                    f"{p.number} · {p.valid_from:%Y-%m-%d} – {p.valid_until:%Y-%m-%d} · {p.get_status_display()}",
                    icon="credit-card-2-front")
        for p in Permit.objects.filter(person=person).select_related("issued_place")
    ]


def journey_for(person) -> Journey:
    """The ordered timeline of one person (oldest first) with its places."""
    items = [*_registrations(person), *_events(person), *_referrals(person), *_permits(person)]
    items.sort(key=lambda item: item.at)
    return Journey(person=person, items=items)
