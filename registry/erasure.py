"""The registry's part in erasing a person (``privacy.erasure``): its live rows scrubbed, its
history rows about the person, the tombstone, and the rule that refuses an erasure while a
protection referral is open. Registered from ``RegistryConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from registry.models import (
    DuplicateCandidate,
    GroupMembership,
    IdentityDocument,
    MergeRecord,
    Person,
    Referral,
    Registration,
    RegistrationTransition,
    Vulnerability,
)
from registry.vocabulary import BirthPrecision, PersonStatus

OPEN_REFERRAL_STATUSES = ("requested", "accepted")


def open_referrals(person):
    return Referral.objects.filter(person=person, status__in=OPEN_REFERRAL_STATUSES)


def refuse(person):
    if open_referrals(person).exists():
        return _(
            "The person has an open protection referral: erasing now could cut them off from protection. "
            "Close or cancel the referral first."
        )
    return None


def scrub(actor, person) -> dict[str, int]:
    """Documents, search and matching keys deleted; free text of registrations, review steps,
    flags, referrals, duplicate pairs and merges emptied."""
    counts: dict[str, int] = {}
    documents = IdentityDocument.objects.filter(person=person)
    counts["documents"] = documents.count()
    documents.delete()
    counts["name_terms"] = person.name_terms.all().delete()[0]
    counts["blocking_keys"] = person.blocking_keys.all().delete()[0]
    counts["registrations"] = Registration.objects.filter(person=person).update(notes="", destination_detail="")
    RegistrationTransition.objects.filter(registration__person=person).update(reason="")
    counts["vulnerabilities"] = Vulnerability.objects.filter(person=person).update(details="")
    counts["referrals"] = Referral.objects.filter(person=person).update(outcome="")
    DuplicateCandidate.objects.filter(person_a=person).update(reasons=[], decision_reason="")
    DuplicateCandidate.objects.filter(person_b=person).update(reasons=[], decision_reason="")
    for field in ("survivor", "merged"):
        MergeRecord.objects.filter(**{field: person}).update(reason="", undo_reason="", aliases_added=[])
    return counts


def history(person):
    yield Person.history.model, {"id": person.pk}
    for model in (IdentityDocument, GroupMembership, Registration, Vulnerability, Referral):
        yield model.history.model, {"person_id": person.pk}
    yield DuplicateCandidate.history.model, {"person_a_id": person.pk}
    yield DuplicateCandidate.history.model, {"person_b_id": person.pk}


def tombstone(actor, person) -> None:
    """What stays: reference, status and the coarse fields aggregates count (one history row
    records the erased state)."""
    person.given_names = ""
    person.first_surname = ""
    person.second_surname = ""
    person.aliases = []
    person.birth_date = None
    person.birth_precision = BirthPrecision.YEAR
    person.country_of_birth = ""
    person.languages = []
    person.status = PersonStatus.ERASED
    person.version += 1
    person._history_user = actor if getattr(actor, "pk", None) else None
    person._change_reason = "erased"
    person.save()


def register_erasure_part() -> None:
    from privacy.erasure import ErasurePart, register

    register(ErasurePart("registry", refuse=refuse, scrub=scrub, history=history, finish=tombstone))
