"""Celery tasks of the registry. Thin (DESIGN.md rule 7): they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from privacy import outbox
from registry import matching
from registry.models import Person
from registry.vocabulary import PersonStatus

SCAN_DUPLICATES = "registry.scan_duplicates"


@shared_task(name=SCAN_DUPLICATES, ignore_result=True)
def scan_duplicates(*, person_id: str, outbox_id: str) -> int:
    """Record the duplicate candidates of a newly registered or corrected person.

    Published by the outbox (``services.register`` / ``update_person``) with ``person_id`` and
    ``outbox_id``; a redelivery of the same message is a no-op. A person merged or erased in the
    meantime is skipped. Returns how many candidate pairs were stored (0 on a redelivery).
    """
    with outbox.consume_once(outbox_id, SCAN_DUPLICATES) as first_time:
        if not first_time:
            return 0
        person = Person.objects.filter(pk=person_id, status=PersonStatus.ACTIVE).first()
        if person is None:
            return 0
        return len(matching.record_candidates(person))


SCAN_CHANGED_PEOPLE = "registry.scan_changed_people"
PERSON_MERGED = "registry.person_merged"
PERSON_UNMERGED = "registry.person_unmerged"


@shared_task(name=SCAN_CHANGED_PEOPLE, ignore_result=True)
def scan_changed_people() -> str | None:
    """Nightly (beat): match the people changed since the last pass; returns the run id."""
    from registry.resolution.scan import scan_changed_people as scan

    run = scan()
    return str(run.pk) if run else None


@shared_task(name=PERSON_MERGED, ignore_result=True)
def person_merged(*, merge_id: str, survivor_id: str, merged_id: str, outbox_id: str) -> bool:
    """Outbox consumer of a merge: partner notification hooks (webhooks) attach to the
    ``registry.resolution.merge.partner_event`` signal. Redeliveries are no-ops."""
    return _partner_event(PERSON_MERGED, merge_id, survivor_id, merged_id, outbox_id)


@shared_task(name=PERSON_UNMERGED, ignore_result=True)
def person_unmerged(*, merge_id: str, survivor_id: str, merged_id: str, outbox_id: str) -> bool:
    """Outbox consumer of an unmerge (see ``person_merged``)."""
    return _partner_event(PERSON_UNMERGED, merge_id, survivor_id, merged_id, outbox_id)


def _partner_event(name: str, merge_id: str, survivor_id: str, merged_id: str, outbox_id: str) -> bool:
    from registry.resolution.merge import partner_event

    with outbox.consume_once(outbox_id, name) as first_time:
        if first_time:
            partner_event.send(sender=name, merge_id=merge_id, survivor_id=survivor_id, merged_id=merged_id)
        return first_time


RUN_IMPORT = "registry.run_import"


@shared_task(name=RUN_IMPORT, ignore_result=True)
def run_import(*, preview_id: str, user_id: str, place_code: str = "", legal_basis: str = "", outbox_id: str = "") -> str | None:
    """The real run of an import previewed in the admin. Not wrapped in ``consume_once``: the
    import commits batch by batch and is idempotent by itself (a redelivery resumes the same
    job, or finds it done), so it must not run inside one long transaction."""
    from registry.resolution.importer.admin import run_queued_import

    job = run_queued_import(preview_id, user_id, place_code, legal_basis)
    return str(job.pk) if job else None
