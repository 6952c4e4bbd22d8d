"""Erasure: a person's personal data removed from every copy, a tombstone kept (DESIGN.md rule 6).

``erase_person`` runs in one transaction: either every copy is erased and the tombstone written,
or nothing changed. What goes:

* live tables: names, aliases, exact date of birth, languages, documents (rows deleted), the
  blind-index and blocking-key rows, free text of registrations, review steps, flags, referrals,
  visitor cards, duplicate pairs and merges; records merged into this one are erased with it;
* history tables (django-simple-history): every historical row of the person and of the rows
  that point at them; one new history row records the erased state;
* outbox payloads that mention the person: published ones are emptied, pending ones dropped
  (webhook notices excepted);
* idempotent API responses that mention the person, their pseudonyms or registrations;
* cached aggregates (the dashboard cache moves to a new generation) and stored report files
  whose period covers a day the person was registered or seen (runs deleted with their files).

What stays: the ``Person`` row as a tombstone (UUID, reference, status ``erased``, sex, birth
year and nationality for aggregate statistics), registrations' and events' places and times (no
hard deletes of events), the access log (ids only, append-only), partner pseudonyms (who was
told), and an ``ErasureRecord`` with the counts. Partners with webhooks that were shown the
person get a signed ``person.erased`` notice through the outbox.

Someone with an open protection referral is not erased: ``ErasureRefused`` carries the reason.

The registry has no erasure service of its own yet, so this module writes to its models
directly; it should move to ``registry.services`` (and the transit part to ``transit``) later.
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.models import ErasureRecord, OutboxMessage
from privacy.purge_path import purge_path
from privacy.rights.jsontext import mentions_any

logger = structlog.get_logger(__name__)

OPEN_REFERRAL_STATUSES = ("requested", "accepted")
COUNT_LABELS = {
    "documents": _("identity documents deleted"),
    "name_terms": _("name search terms deleted"),
    "blocking_keys": _("duplicate-matching keys deleted"),
    "registrations": _("registrations cleared"),
    "vulnerabilities": _("protection flags cleared"),
    "referrals": _("referrals cleared"),
    "permits": _("visitor cards cleared"),
    "transit_events": _("movements kept without personal data"),
    "history_rows": _("history rows deleted"),
    "merged_records": _("merged records erased"),
    "outbox_messages": _("queued messages cleared"),
    "idempotent_responses": _("stored API responses deleted"),
    "report_runs": _("report runs deleted"),
}
WEBHOOK_TASK = "api.deliver_webhook"


class ErasureError(Exception):
    """The erasure cannot be done; nothing was changed. ``str()`` is a user-facing reason."""


class ErasureRefused(ErasureError):
    """Refused by a rule (an open protection referral); the request is escalated."""


def open_referrals(person):
    from registry.models import Referral

    return Referral.objects.filter(person=person, status__in=OPEN_REFERRAL_STATUSES)


def check_erasable(person) -> None:
    """Raise ``ErasureError`` / ``ErasureRefused`` with the reason if ``person`` cannot be erased."""
    from registry.vocabulary import PersonStatus

    if person.status == PersonStatus.ERASED:
        raise ErasureError(_("This person's data has already been erased."))
    if open_referrals(person).exists():
        raise ErasureRefused(
            _(
                "The person has an open protection referral: erasing now could cut them off from protection. "
                "Close or cancel the referral first."
            )
        )


@transaction.atomic
def erase_person(actor, person, *, reason: str, request=None) -> ErasureRecord:
    """Erase ``person`` everywhere (see the module docstring); returns the tombstone record."""
    from registry.models import Person

    person = Person.objects.select_for_update().get(pk=person.pk)
    check_erasable(person)
    with purge_path():
        counts = _erase_one(actor, person)
        merged_records = list(
            Person.objects.select_for_update().filter(merged_into=person).exclude(status="erased")
        )
        for merged in merged_records:
            sub = _erase_one(actor, merged)
            counts["merged_records"] = counts.get("merged_records", 0) + 1
            for key, value in sub.items():
                counts[key] = counts.get(key, 0) + value
        counts["outbox_messages"] = _erase_outbox(person)
        counts["idempotent_responses"] = _erase_idempotent_responses(person)
        counts["report_runs"] = _erase_report_files(person)
    _invalidate_aggregates()
    for each in (person, *merged_records):
        _notify_partners(each)
    record = ErasureRecord.objects.create(
        person=person,
        request=request,
        reason=reason[:40],
        erased_by=actor if getattr(actor, "pk", None) else None,
        counts=counts,
    )
    logger.info(
        "privacy.person_erased", person_id=str(person.pk), reason=reason[:40], counts=counts
    )
    return record


def _erase_one(actor, person) -> dict[str, int]:
    """Personal data of one person out of the live and history tables; returns counts."""
    from registry.models import (
        DuplicateCandidate,
        IdentityDocument,
        MergeRecord,
        Referral,
        Registration,
        RegistrationTransition,
        Vulnerability,
    )
    from transit.models import Permit, TransitEvent

    counts: dict[str, int] = {}
    documents = IdentityDocument.objects.filter(person=person)
    counts["documents"] = documents.count()
    documents.delete()
    counts["name_terms"] = person.name_terms.all().delete()[0]
    counts["blocking_keys"] = person.blocking_keys.all().delete()[0]
    registrations = Registration.objects.filter(person=person)
    counts["registrations"] = registrations.update(notes="", destination_detail="")
    RegistrationTransition.objects.filter(registration__person=person).update(reason="")
    counts["vulnerabilities"] = Vulnerability.objects.filter(person=person).update(details="")
    counts["referrals"] = Referral.objects.filter(person=person).update(outcome="")
    counts["permits"] = Permit.objects.filter(person=person).update(status_reason="")
    counts["transit_events"] = TransitEvent.objects.filter(person=person).count()
    DuplicateCandidate.objects.filter(person_a=person).update(reasons=[], decision_reason="")
    DuplicateCandidate.objects.filter(person_b=person).update(reasons=[], decision_reason="")
    for field in ("survivor", "merged"):
        MergeRecord.objects.filter(**{field: person}).update(
            reason="", undo_reason="", aliases_added=[]
        )
    counts["history_rows"] = _erase_history(person)
    _blank_identity(actor, person)
    return counts


def _history_sets(person):
    """(historical model, filter) for every history table that can hold this person's data."""
    from registry.models import (
        DuplicateCandidate,
        GroupMembership,
        IdentityDocument,
        Person,
        Referral,
        Registration,
        Vulnerability,
    )
    from transit.models import Permit, TransitEvent

    yield Person.history.model, {"id": person.pk}
    for model in (
        IdentityDocument,
        GroupMembership,
        Registration,
        Vulnerability,
        Referral,
        Permit,
        TransitEvent,
    ):
        yield model.history.model, {"person_id": person.pk}
    yield DuplicateCandidate.history.model, {"person_a_id": person.pk}
    yield DuplicateCandidate.history.model, {"person_b_id": person.pk}


def _erase_history(person) -> int:
    removed = 0
    for model, lookup in _history_sets(person):
        removed += model.objects.filter(**lookup).delete()[0]
    return removed


def _blank_identity(actor, person) -> None:
    """The tombstone: reference, status and the coarse fields aggregates count."""
    from registry.vocabulary import BirthPrecision, PersonStatus

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


def _erase_outbox(person) -> int:
    """Empty published payloads that mention the person; drop pending ones (not webhooks)."""
    mentioning = mentions_any(OutboxMessage.objects.all(), "kwargs", [str(person.pk)])
    dropped = (
        mentioning.filter(published_at__isnull=True).exclude(task_name=WEBHOOK_TASK).delete()[0]
    )
    emptied = mentioning.filter(published_at__isnull=False).update(kwargs={})
    return dropped + emptied


def _erase_idempotent_responses(person) -> int:
    """Stored API responses that mention the person's id, pseudonyms or registrations."""
    from accounts.models import PartnerPseudonym
    from api.models import IdempotencyRecord

    values = [str(person.pk)]
    values += list(
        PartnerPseudonym.objects.filter(person_id=person.pk).values_list("pseudonym", flat=True)
    )
    values += [str(pk) for pk in person.registrations.values_list("pk", flat=True)]
    return mentions_any(IdempotencyRecord.objects.all(), "body", values).delete()[0]


def _person_days(person) -> set[dt.date]:
    days = {
        timezone.localdate(at)
        for at in person.registrations.values_list("registered_at", flat=True)
    }
    days |= {
        timezone.localdate(at) for at in person.transit_events.values_list("occurred_at", flat=True)
    }
    return days


def _covers(parameters: dict, days: set[dt.date]) -> bool:
    try:
        start = dt.date.fromisoformat(str(parameters.get("date_from")))
        end = dt.date.fromisoformat(str(parameters.get("date_to")))
    except ValueError:
        return True  # a run whose period cannot be read is removed rather than kept by mistake
    return any(start <= day <= end for day in days)


def _erase_report_files(person) -> int:
    """Report runs whose period covers a day the person was registered or seen: removed with
    their files through the reports app's own API (a new request builds them afresh)."""
    from reports import generation
    from reports.models import ReportRun

    days = _person_days(person)
    if not days:
        return 0
    removed = 0
    for run in ReportRun.objects.filter(finished_at__isnull=False):
        if _covers(run.parameters or {}, days):
            generation.remove_stored_files(run)
            run.delete()
            removed += 1
    return removed


def _invalidate_aggregates() -> None:
    """Cached dashboard aggregates move to a new generation after the commit."""
    from reports.signals import bump_dashboard_version

    bump_dashboard_version()


def _notify_partners(person) -> None:
    """A signed ``person.erased`` webhook (through the outbox) to agencies shown the person."""
    from api import webhooks

    webhooks.notify_person_status(person)
