"""Overstay detection, computed by the database.

For each person, the last entry is taken (a window function, ``ROW_NUMBER() OVER (PARTITION BY
person ORDER BY occurred_at DESC)``). The card that covered it is the non-revoked permit valid on
the local date of the entry. The authorised stay ends at the earlier of:

* local midnight after ``stay_per_entry_days`` (the day of entry counts as day 1: a TVR entry on
  1 March at any hour may stay until the end of 7 March), and
* local midnight after the card's last valid day,

both in the time zone of the place of entry. The first exit (or return) after the entry decides:
none and the deadline has passed → **no exit recorded**; an exit after the deadline → **exited
late**. Entries with no covering card have no authorised stay to exceed and are not listed.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    CharField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from transit.models import Permit, PermitStatus, TransitEvent
from transit.permit_rules import PERMIT_RULES
from transit.sql import LocalDate, LocalMidnight
from transit.vocabulary import EXIT_KINDS, EventKind

NO_EXIT = "no_exit"
EXITED_LATE = "exited_late"
OVERSTAY_LABELS = {NO_EXIT: _("No exit recorded"), EXITED_LATE: _("Exited late")}


def stay_days_case(field: str = "kind") -> Case:
    """SQL CASE giving the authorised stay per entry (days) of a permit kind, from PERMIT_RULES."""
    whens = [When(**{field: kind}, then=Value(rule.stay_per_entry_days)) for kind, rule in PERMIT_RULES.items()]
    return Case(*whens, default=Value(None), output_field=IntegerField())


def last_entries() -> QuerySet:
    """Ids of each person's most recent entry (window function)."""
    ranked = TransitEvent.objects.filter(kind=EventKind.ENTRY, person__isnull=False).annotate(
        rank=Window(RowNumber(), partition_by=[F("person_id")], order_by=F("occurred_at").desc())
    )
    return ranked.filter(rank=1).values("pk")


def _covering_permits() -> QuerySet:
    entry_date = LocalDate(OuterRef("occurred_at"), OuterRef("place__time_zone"))
    return (
        Permit.objects.filter(person=OuterRef("person"), valid_from__lte=entry_date, valid_until__gte=entry_date)
        .exclude(status=PermitStatus.REVOKED)
        .order_by("-valid_until")
    )


def _deadline() -> Subquery:
    tz = OuterRef("place__time_zone")
    entry_date = LocalDate(OuterRef("occurred_at"), tz)
    deadline = Least(LocalMidnight(entry_date, stay_days_case(), tz), LocalMidnight(F("valid_until"), Value(1), tz))
    return Subquery(_covering_permits().annotate(deadline=deadline).values("deadline")[:1])


def _first_exit() -> Subquery:
    exits = TransitEvent.objects.filter(
        person=OuterRef("person"), kind__in=EXIT_KINDS, occurred_at__gt=OuterRef("occurred_at")
    ).order_by("occurred_at")
    return Subquery(exits.values("occurred_at")[:1])


def overstays(
    *, at: dt.datetime | None = None, place=None, nationality: str = "", min_days_over: int = 0,
    people: QuerySet | None = None,
) -> QuerySet:
    """Last entries whose authorised stay was exceeded, longest overstay first.

    Each row is the entry ``TransitEvent`` annotated with ``deadline``, ``exit_at``,
    ``overstay`` (``no_exit`` | ``exited_late``) and ``over_by`` (an interval).
    ``people`` restricts to a visible set (``Person.objects.visible_to(user)``).

    The test is one comparison, ``COALESCE(first exit, now) > deadline``, so PostgreSQL runs
    the two correlated subqueries once per last entry; the labels are computed only for the
    rows that overstayed.
    """
    now = at or timezone.now()
    rows = TransitEvent.objects.filter(pk__in=last_entries())
    if people is not None:
        rows = rows.filter(person__in=people)
    if place is not None:
        rows = rows.filter(place=place)
    if nationality:
        rows = rows.filter(person__nationality=nationality)
    rows = rows.alias(end_at=Coalesce(_first_exit(), Value(now)), limit_at=_deadline())
    if min_days_over > 0:
        rows = rows.filter(end_at__gte=F("limit_at") + Value(dt.timedelta(days=min_days_over)))
    else:
        rows = rows.filter(end_at__gt=F("limit_at"))
    rows = rows.annotate(deadline=_deadline(), exit_at=_first_exit()).annotate(
        overstay=Case(When(exit_at__isnull=True, then=Value(NO_EXIT)), default=Value(EXITED_LATE), output_field=CharField()),
        over_by=ExpressionWrapper(
            Coalesce(F("exit_at"), Value(now)) - F("deadline"), output_field=DurationField()
        ),
    )
    return rows.order_by("-over_by", "pk")


def overstay_summary(*, at: dt.datetime | None = None) -> dict[str, int]:
    """How many people are in each overstay situation (one aggregate query)."""
    from django.db.models import Count

    counts = overstays(at=at).order_by().values("overstay").annotate(n=Count("pk"))
    summary = {NO_EXIT: 0, EXITED_LATE: 0}
    summary.update({row["overstay"]: row["n"] for row in counts})
    return summary
