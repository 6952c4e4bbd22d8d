"""Transit's part in erasing a person (``privacy.erasure``): visitor cards lose their free text,
movements stay without personal data (places and times count), their history rows go.
Registered from ``TransitConfig.ready``."""

from __future__ import annotations

from transit.models import Permit, TransitEvent


def scrub(actor, person) -> dict[str, int]:
    return {
        "permits": Permit.objects.filter(person=person).update(status_reason=""),
        "transit_events": TransitEvent.objects.filter(person=person).count(),
    }


def history(person):
    for model in (Permit, TransitEvent):
        yield model.history.model, {"person_id": person.pk}


def register_erasure_part() -> None:
    from privacy.erasure import ErasurePart, register

    register(ErasurePart("transit", scrub=scrub, history=history))
