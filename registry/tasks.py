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
