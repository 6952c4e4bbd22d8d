"""The API's part in erasing a person (``privacy.erasure``): stored idempotent responses that
mention the person's id, pseudonyms or registrations are deleted, and agencies that were shown
the person get a signed ``person.erased`` notice. Registered from ``ApiConfig.ready``."""

from __future__ import annotations

from accounts.models import PartnerPseudonym
from api import webhooks
from api.models import IdempotencyRecord
from privacy.rights.jsontext import mentions_any


def scrub(actor, person) -> dict[str, int]:
    values = [str(person.pk)]
    values += list(PartnerPseudonym.objects.filter(person_id=person.pk).values_list("pseudonym", flat=True))
    values += [str(pk) for pk in person.registrations.values_list("pk", flat=True)]
    return {"idempotent_responses": mentions_any(IdempotencyRecord.objects.all(), "body", values).delete()[0]}


def announce(person) -> None:
    webhooks.notify_person_status(person)


def register_erasure_part() -> None:
    from privacy.erasure import ErasurePart, register

    register(ErasurePart("api", scrub=scrub, announce=announce))
