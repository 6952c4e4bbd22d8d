"""Retention: each data class is kept for its configured period, then purged (SECURITY.md DP-4).

``purge(dry_run=...)`` runs daily (Celery beat ``privacy.retention_purge``) and records a
``RetentionRun`` with the cut-off and the count of every class; a dry run counts what would go
and changes nothing. Data classes and their settings (days):

=================  ================================  ==========================================
class              setting                           what is purged
=================  ================================  ==========================================
identity           ``RETENTION_IDENTITY_DAYS``       people with no registration, movement or
                                                     change since the cut-off: erased (tombstone)
drafts             ``RETENTION_DRAFTS_DAYS``         people known only from registration drafts
                                                     untouched since the cut-off: erased
vulnerability      ``RETENTION_VULNERABILITY_DAYS``  details of inactive flags recorded before
                                                     the cut-off (the kind stays for statistics)
events             ``RETENTION_EVENTS_DAYS``         change-history rows (django-simple-history)
                                                     older than the cut-off
access_logs        ``RETENTION_ACCESS_LOG_DAYS``     access-log rows older than the cut-off
report_files       ``REPORT_RETENTION_DAYS``         report runs finished before the cut-off,
                                                     with their stored files (reports.services)
import_files       ``RETENTION_IMPORT_FILES_DAYS``   uploads, unconfirmed previews and error
                                                     reports of bulk imports (plaintext files
                                                     under ``IMPORT_DIR``; the importer's
                                                     ``retention.purge_files``)
=================  ================================  ==========================================

Cancellation requests whose blocking period is over are erased by the same run. People with an
open protection referral are never erased by retention: they are counted under ``skipped``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import structlog
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from simple_history.models import HistoricalChanges

from privacy import erasure
from privacy.models import AccessLog, RetentionRun
from privacy.purge_path import purge_path

logger = structlog.get_logger(__name__)

CLASSES = {
    "identity": "RETENTION_IDENTITY_DAYS",
    "drafts": "RETENTION_DRAFTS_DAYS",
    "vulnerability": "RETENTION_VULNERABILITY_DAYS",
    "events": "RETENTION_EVENTS_DAYS",
    "access_logs": "RETENTION_ACCESS_LOG_DAYS",
    "report_files": "REPORT_RETENTION_DAYS",
    "import_files": "RETENTION_IMPORT_FILES_DAYS",
}


def cutoffs(now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    now = now or timezone.now()
    return {
        name: now - dt.timedelta(days=getattr(settings, setting))
        for name, setting in CLASSES.items()
    }


# --- what is due, per class (querysets; nothing changes here) ---------------------------------


def stale_people(cutoff: dt.datetime):
    """Active people with no registration, movement or change since ``cutoff``."""
    from registry.models import Person, Registration
    from transit.models import TransitEvent

    recent_registration = Registration.objects.filter(person=OuterRef("pk")).filter(
        Q(registered_at__gte=cutoff) | Q(modified_at__gte=cutoff)
    )
    recent_event = TransitEvent.objects.filter(person=OuterRef("pk"), occurred_at__gte=cutoff)
    return (
        Person.objects.filter(status="active", created_at__lt=cutoff, modified_at__lt=cutoff)
        .exclude(Exists(recent_registration))
        .exclude(Exists(recent_event))
    )


def draft_only_people(cutoff: dt.datetime):
    """Active people whose every registration is a draft untouched since ``cutoff`` and who were
    never seen at a crossing."""
    from registry.models import Person, Registration
    from registry.vocabulary import RegistrationStatus
    from transit.models import TransitEvent

    live = Registration.objects.filter(person=OuterRef("pk")).filter(
        ~Q(status=RegistrationStatus.DRAFT) | Q(modified_at__gte=cutoff)
    )
    drafts = Registration.objects.filter(person=OuterRef("pk"), status=RegistrationStatus.DRAFT)
    return (
        Person.objects.filter(status="active", modified_at__lt=cutoff)
        .filter(Exists(drafts))
        .exclude(Exists(live))
        .exclude(Exists(TransitEvent.objects.filter(person=OuterRef("pk"))))
    )


def old_vulnerability_details(cutoff: dt.datetime) -> list:
    """Inactive flags recorded before ``cutoff`` that still hold details (decrypted to check:
    the ciphertext of an empty text is not empty)."""
    from registry.models import Vulnerability

    rows = Vulnerability.objects.filter(is_active=False, recorded_at__lt=cutoff).exclude(
        person__status="erased"
    )
    return [row for row in rows.iterator() if row.details]


def history_models() -> list:
    return [model for model in apps.get_models() if issubclass(model, HistoricalChanges)]


def old_history(cutoff: dt.datetime) -> dict:
    return {model: model.objects.filter(history_date__lt=cutoff) for model in history_models()}


def old_access_logs(cutoff: dt.datetime):
    return AccessLog.objects.filter(at__lt=cutoff)


def old_report_runs(cutoff: dt.datetime):
    from reports.models import ReportRun

    return ReportRun.objects.filter(finished_at__lt=cutoff)


# --- the purge -------------------------------------------------------------------------------


def _erase_people(queryset, reason: str, dry_run: bool) -> tuple[int, int]:
    """(erased, skipped): people with an open referral are kept and counted."""
    erased = skipped = 0
    for person in queryset.iterator():
        if erasure.open_referrals(person).exists():
            skipped += 1
            continue
        if not dry_run:
            erasure.erase_person(None, person, reason=reason)
        erased += 1
    return erased, skipped


def _purge_vulnerabilities(cutoff: dt.datetime, dry_run: bool) -> int:
    from registry.models import Vulnerability

    rows = old_vulnerability_details(cutoff)
    if not dry_run and rows:
        ids = [row.pk for row in rows]
        with transaction.atomic(), purge_path():
            Vulnerability.objects.filter(pk__in=ids).update(details="")
            Vulnerability.history.model.objects.filter(id__in=ids).delete()
    return len(rows)


def _purge_history(cutoff: dt.datetime, dry_run: bool) -> int:
    total = 0
    for queryset in old_history(cutoff).values():
        if dry_run:
            total += queryset.count()
        else:
            with transaction.atomic(), purge_path():
                total += queryset.delete()[0]
    return total


def _purge_access_logs(cutoff: dt.datetime, dry_run: bool) -> int:
    queryset = old_access_logs(cutoff)
    if dry_run:
        return queryset.count()
    with transaction.atomic(), purge_path():
        return queryset.delete()[0]


def _purge_report_files(now: dt.datetime, dry_run: bool) -> int:
    from reports import services as report_services

    return report_services.purge_expired(now, dry_run=dry_run)


def _purge_import_files(cutoff: dt.datetime, dry_run: bool) -> int:
    from registry.resolution.importer import retention as import_retention

    return import_retention.purge_files(cutoff, dry_run=dry_run)


def purge(*, dry_run: bool = False, now: dt.datetime | None = None, user=None) -> RetentionRun:
    """Run (or preview) the retention purge of every data class; returns the logged run."""
    from privacy.rights import services as rights

    now = now or timezone.now()
    limits = cutoffs(now)
    run = RetentionRun.objects.create(
        dry_run=dry_run, started_at=now, cutoffs=limits, started_by=user
    )
    counts: dict[str, int] = {}
    skipped: dict[str, int] = {}
    steps: list[tuple[str, Callable[[], int]]] = [
        ("vulnerability", lambda: _purge_vulnerabilities(limits["vulnerability"], dry_run)),
        ("access_logs", lambda: _purge_access_logs(limits["access_logs"], dry_run)),
        ("report_files", lambda: _purge_report_files(now, dry_run)),
        ("import_files", lambda: _purge_import_files(limits["import_files"], dry_run)),
    ]
    counts["identity"], skipped["identity"] = _erase_people(
        stale_people(limits["identity"]), "retention:identity", dry_run
    )
    counts["drafts"], skipped["drafts"] = _erase_people(
        draft_only_people(limits["drafts"]), "retention:drafts", dry_run
    )
    for name, step in steps:
        counts[name] = step()
    if dry_run:
        from privacy.models import RightsRequest

        counts["blocked_erased"] = (
            RightsRequest.objects.blocking().filter(blocked_until__lte=now).count()
        )
    else:
        result = rights.erase_due(now)
        counts["blocked_erased"], skipped["blocked_erased"] = result["erased"], result["refused"]
    # History last: the erasures above write one history row each, which is recent anyway.
    counts["events"] = _purge_history(limits["events"], dry_run)
    run.counts = counts
    run.skipped = {k: v for k, v in skipped.items() if v}
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "skipped", "finished_at"])
    logger.info("privacy.retention_purge", dry_run=dry_run, counts=counts, skipped=run.skipped)
    return run
