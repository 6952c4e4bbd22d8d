"""Synthetic demo movements for ``seed_demo``: entries at the border, trips along La Bestia,
visitor cards, and anonymous head counts at informal crossings.

Everything goes through the transit services with the demo users as actors; deterministic for a
given seed; nobody here is a real person.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from accounts import roles
from accounts.demo import register_seed_step
from transit import services
from transit.models import TransitEvent
from transit.permit_rules import PermitKind
from transit.services import EventInput
from transit.vocabulary import COUNT_FIELDS, Direction, EventKind, Mode

ROUTE = ["RB-02", "RB-04", "RB-06", "RB-09", "RB-12", "RB-14"]  # Arriaga → Lechería
INFORMAL = ["INF-SUCHIATE", "INF-CEIBO", "INF-LIMONES"]


class DemoMovements:
    """Builds the demo movements with the demo admin (who may record anywhere) and supervisor."""

    def __init__(self, admin, supervisor, places: dict, *, seed: int = 2026):
        self.admin, self.supervisor, self.places = admin, supervisor, places
        self.rng = random.Random(seed)
        self.now = timezone.now()

    def _event(self, person, code: str, kind: str, at: dt.datetime, mode: str = Mode.FOOT, head_count=None) -> None:
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo:{code}:{kind}:{getattr(person, 'pk', 'count')}:{at.isoformat()}"))
        services.record_event(self.admin, EventInput(
            place=self.places[code], kind=kind, idempotency_key=key, occurred_at=at, person=person,
            head_count=head_count, direction=Direction.NORTHBOUND, mode=mode,
        ))

    def journey(self, registration) -> None:
        """Entry at the crossing before registration, then some stops north along the rail line."""
        entered = registration.registered_at - dt.timedelta(minutes=self.rng.randint(5, 90))
        self._event(registration.person, registration.place.code, EventKind.ENTRY, entered)
        at = entered
        for code in ROUTE[: self.rng.randint(0, len(ROUTE))]:
            at = at + dt.timedelta(hours=self.rng.randint(20, 60))
            if at >= self.now:
                break
            self._event(registration.person, code, EventKind.BOARDING, at, mode=Mode.TRAIN)

    def card(self, registration) -> None:
        """A regional visitor card from today (cards cannot start in the past), and for some an
        exit back across the border a few hours after the entry."""
        services.issue_permit(self.supervisor, registration.person, kind=PermitKind.TVR)
        left_at = registration.registered_at + dt.timedelta(hours=3)
        if self.rng.random() < 0.5 and left_at < self.now:
            self._event(registration.person, registration.place.code, EventKind.EXIT, left_at)

    def head_counts(self, days: int = 30) -> None:
        for code in INFORMAL:
            for day in range(days):
                cells = {name: (self.rng.randint(0, 6) if name.endswith("18_59") else self.rng.randint(0, 2)) for name in COUNT_FIELDS}
                cells[COUNT_FIELDS[3]] += 1  # never an empty count
                cells["nationality"] = self.rng.choice(["GT", "HN", "SV", ""])
                self._event(None, code, EventKind.ENTRY, self.now - dt.timedelta(days=day, hours=self.rng.randint(1, 12)), head_count=cells)

    def build(self, registrations) -> int:
        for registration in registrations:
            self.journey(registration)
            if str(registration.person.nationality) == "GT" and self.rng.random() < 0.4:
                self.card(registration)
        self.head_counts()
        return TransitEvent.objects.count()


@register_seed_step
def seed_transit_demo() -> str:
    """``seed_demo`` step (after the registry's): movements of the demo people. Idempotent."""
    from accounts.models import User
    from crossings.models import Place
    from registry.models import Registration

    if TransitEvent.objects.exists():
        return "movements already seeded"
    admin = User.objects.filter(username=roles.ADMIN, is_active=True).first()
    supervisor = User.objects.filter(username=roles.SUPERVISOR, is_active=True).first()
    places = {p.code: p for p in Place.objects.filter(code__in=[*ROUTE, *INFORMAL, "MXGT-01"])}
    registrations = list(Registration.objects.select_related("person", "place").order_by("registered_at"))
    if admin is None or supervisor is None or len(places) < len(ROUTE) + len(INFORMAL) + 1 or not registrations:
        return "skipped: demo users, reference places or demo people missing"
    return f"{DemoMovements(admin, supervisor, places).build(registrations)} events"
