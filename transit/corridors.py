"""Corridor flows for analysts: how many people seen at a border crossing were next seen at a
transit point within N days. Aggregates only, computed in SQL, small cells suppressed.

Each transit-point event of an identified person is paired (correlated subquery) with the same
person's latest crossing event in the N days before it; distinct people are counted per
(crossing, transit point). Counts under ``settings.SMALL_CELL_K`` come back as ``None`` and are
shown as "<k" (SECURITY.md DP-5). No totals are shown, so no secondary suppression is needed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.utils import timezone

from crossings.models import Place
from transit.models import TransitEvent


@dataclass(frozen=True)
class Flow:
    origin: Place
    destination: Place
    people: int | None  # None: suppressed (fewer than k)


def _origin(days: int) -> Subquery:
    crossing_events = TransitEvent.objects.filter(
        person=OuterRef("person"),
        place__category=Place.Category.CROSSING,
        occurred_at__lt=OuterRef("occurred_at"),
        occurred_at__gte=OuterRef("occurred_at") - dt.timedelta(days=days),
    ).order_by("-occurred_at")
    return Subquery(crossing_events.values("place_id")[:1])


def corridor_counts(*, days: int, since: dt.date | None = None, until: dt.date | None = None, k: int | None = None):
    """Rows of ``{origin, destination, people}`` with people None under k, biggest first."""
    k = settings.SMALL_CELL_K if k is None else k
    events = TransitEvent.objects.identified().filter(place__category=Place.Category.TRANSIT_POINT)
    if since:
        events = events.filter(occurred_at__date__gte=since)
    if until:
        events = events.filter(occurred_at__date__lte=until)
    rows = (
        events.annotate(origin=_origin(days)).filter(origin__isnull=False)
        .values("origin", "place").annotate(n=Count("person", distinct=True))
        .annotate(shown=Case(When(n__gte=k, then=F("n")), default=Value(None), output_field=IntegerField()))
        .order_by(F("shown").desc(nulls_last=True), "origin", "place")
    )
    return list(rows.values("origin", "place", "shown"))


def corridor_flows(*, days: int, since: dt.date | None = None, until: dt.date | None = None) -> list[Flow]:
    """Flows with their places, ready for the page."""
    rows = corridor_counts(days=days, since=since, until=until or timezone.localdate())
    places = Place.objects.in_bulk({r["origin"] for r in rows} | {r["place"] for r in rows})
    return [Flow(places[r["origin"]], places[r["place"]], r["shown"]) for r in rows]
