"""The nightly duplicate scan: every active person changed since the last finished pass is
re-keyed and matched; each pass leaves a ``MatchingRun`` with its progress and counts."""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.models import MatchingRun, MatchingRunStatus, Person
from registry.resolution import engine
from registry.vocabulary import PersonStatus

logger = structlog.get_logger(__name__)
STALE_AFTER = dt.timedelta(hours=12)


def _start(kind: str) -> MatchingRun | None:
    """A new running pass, or None when one is already running (overlap guard)."""
    MatchingRun.objects.filter(kind=kind, status=MatchingRunStatus.RUNNING, started_at__lt=timezone.now() - STALE_AFTER) \
        .update(status=MatchingRunStatus.FAILED, error="stale", finished_at=timezone.now())
    last = MatchingRun.objects.filter(kind=kind, status=MatchingRunStatus.DONE).order_by("-started_at").first()
    try:
        with transaction.atomic():
            return MatchingRun.objects.create(kind=kind, since=last.last_modified_seen if last else None)
    except IntegrityError:
        return None


def _changed(run: MatchingRun):
    people = Person.objects.filter(status=PersonStatus.ACTIVE)
    if run.since is not None:
        people = people.filter(modified_at__gt=run.since)
    return people.order_by("modified_at", "pk")


def _scan_batch(run: MatchingRun, batch: list[Person]) -> None:
    with transaction.atomic():
        for person in batch:
            engine.reindex(person)
            run.pairs_found += len(engine.record_candidates(person))
            run.scanned += 1
            run.last_modified_seen = max(filter(None, [run.last_modified_seen, person.modified_at]))
        run.save(update_fields=["scanned", "pairs_found", "last_modified_seen"])


def scan_changed_people(kind: str = "nightly", batch_size: int = 200) -> MatchingRun | None:
    """Match everyone changed since the previous finished pass; returns the run (None if
    another pass is running). Progress is committed per batch."""
    run = _start(kind)
    if run is None:
        return None
    try:
        people = _changed(run)
        run.total = people.count()
        run.save(update_fields=["total"])
        batch: list[Person] = []
        for person in people.iterator(chunk_size=batch_size):
            batch.append(person)
            if len(batch) >= batch_size:
                _scan_batch(run, batch)
                batch = []
        if batch:
            _scan_batch(run, batch)
    except Exception as exc:
        run.status, run.error, run.finished_at = MatchingRunStatus.FAILED, type(exc).__name__, timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.exception("matching.scan_failed", run=str(run.pk))
        raise
    run.status, run.finished_at = MatchingRunStatus.DONE, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run
