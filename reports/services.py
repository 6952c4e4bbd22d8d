"""Reports' domain operations (DESIGN.md rule 1): request a report, schedule one, run one from
the command line, download a file, purge old files. Views, the command and the tasks call these.

A run is identified by its **fingerprint**, the hash of (kind, parameters, data version). The
data version summarises the source rows the report reads (their count and latest change, and
today's date where the report depends on "now"), so asking again for a report over unchanged
data gives back the run already made (and its files), while new data makes a new run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import structlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from privacy import outbox
from privacy.access_log import log_access
from privacy.models import AccessAction
from registry.models import DuplicateCandidate, Person, Referral, Registration, Vulnerability
from reports import generation
from reports.kinds import KINDS, can_run
from reports.models import ReportFile, ReportKind, ReportRequest, ReportRun, ReportStatus, Trigger
from reports.params import ReportParams
from reports.sql import utc_bounds
from transit.models import Permit, TransitEvent

logger = structlog.get_logger(__name__)
FLOW_KINDS = (ReportKind.DAILY_FLOWS, ReportKind.WEEKLY_SUMMARY, ReportKind.MONTHLY_STATISTICS)


# --- data version and fingerprint ------------------------------------------------------------


def _stamp(aggregate: dict) -> str:
    last = aggregate.get("last")
    return f"{aggregate.get('n', 0)}@{last.strftime('%Y%m%dT%H%M%S%f') if last else '-'}"


def _counted(queryset, field: str) -> str:
    return _stamp(queryset.aggregate(n=Count("pk"), last=Max(field)))


def _sources(kind: str, params: ReportParams) -> list[str]:
    lo, hi = utc_bounds(params.date_from, params.date_to)
    places = Q(place__code__in=params.places) if params.places else Q()
    today = timezone.localdate().isoformat()
    if kind in FLOW_KINDS:
        events = TransitEvent.objects.filter(places, occurred_at__gte=lo, occurred_at__lt=hi)
        parts = [_counted(events, "created_at"), _counted(Person.objects.all(), "modified_at")]
        if kind == ReportKind.MONTHLY_STATISTICS:
            parts.append(_stamp(Vulnerability.objects.aggregate(n=Count("pk", filter=Q(is_active=True)), last=Max("recorded_at"))))
        return parts
    if kind == ReportKind.OVERSTAYS:
        entries = TransitEvent.objects.identified().filter(occurred_at__lt=hi)
        return [_counted(entries, "created_at"), _counted(Permit.objects.all(), "issued_at"), today]
    if kind == ReportKind.REFERRALS:
        return [_counted(Referral.objects.filter(created_at__gte=lo, created_at__lt=hi), "modified_at")]
    registrations = Registration.objects.filter(places, registered_at__gte=lo, registered_at__lt=hi)
    parts = [_counted(registrations, "modified_at"), today]
    if kind == ReportKind.DATA_QUALITY:
        parts.append(_stamp(DuplicateCandidate.objects.aggregate(n=Count("pk", filter=Q(status="pending")), last=Max("decided_at"))))
    return parts


def data_version(kind: str, params: ReportParams) -> str:
    """A short, readable summary of the source rows: "<count>@<latest change>#<hash>"."""
    parts = _sources(kind, params)
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
    return f"{parts[0]}#{digest}"[:80]


def fingerprint(kind: str, parameters: dict, version: str) -> str:
    content = json.dumps({"kind": kind, "parameters": parameters, "data_version": version}, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()


# --- requests --------------------------------------------------------------------------------


def requests_today(user) -> int:
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    return ReportRequest.objects.filter(user=user, created_at__gte=start).count()


def _check_limit(user) -> None:
    """At most REPORTS_PER_USER_PER_DAY requests per user and local day (SECURITY.md IN-4);
    the user row is locked so two simultaneous requests cannot both slip under the limit."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    limit = settings.REPORTS_PER_USER_PER_DAY
    if requests_today(user) >= limit:
        raise ValidationError(
            _("You have asked for %(limit)d reports today, the daily limit. Try again tomorrow.") % {"limit": limit},
            code="limit",
        )


def _get_or_create_run(kind: str, params: ReportParams, *, user, trigger: str) -> tuple[ReportRun, bool]:
    parameters = params.as_json()
    version = data_version(kind, params)
    print_ = fingerprint(kind, parameters, version)
    live = ReportRun.objects.exclude(status=ReportStatus.FAILED)
    existing = live.filter(fingerprint=print_).first()
    if existing is not None:
        return existing, False
    run = ReportRun(kind=kind, parameters=parameters, requested_by=user, trigger=trigger,
                    language=params.language, data_version=version, fingerprint=print_)
    try:
        with transaction.atomic():  # savepoint: a concurrent twin may win the unique constraint
            run.save(force_insert=True)
    except IntegrityError:
        return live.get(fingerprint=print_), False
    return run, True


@transaction.atomic
def request_report(user, kind: str, params: ReportParams) -> ReportRun:
    """An on-demand request from the web: checks the permission and the daily limit, reuses the
    run of an identical report over unchanged data, else queues a new one through the outbox."""
    if not can_run(user, kind):
        raise PermissionDenied(kind)
    _check_limit(user)
    run, created = _get_or_create_run(kind, params, user=user, trigger=Trigger.ON_DEMAND)
    ReportRequest.objects.create(run=run, user=user)
    if created:
        outbox.enqueue(generation.GENERATE_TASK, {"run_id": str(run.pk)}, dedup_key=f"{generation.GENERATE_TASK}:{run.pk}")
    logger.info("reports.requested", run=str(run.pk), kind=kind, reused=not created)
    return run


def run_now(kind: str, params: ReportParams, *, trigger: str = Trigger.COMMAND) -> ReportRun:
    """Create (or find) the run and execute it in this process: the command and the schedules."""
    with transaction.atomic():
        run, _created = _get_or_create_run(kind, params, user=None, trigger=trigger)
    generation.execute(run.pk)
    run.refresh_from_db()
    return run


# --- schedules -------------------------------------------------------------------------------


def scheduled_period(schedule: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Yesterday (daily), last Monday–Sunday (weekly) or last calendar month (monthly)."""
    if schedule == "daily":
        day = today - dt.timedelta(days=1)
        return day, day
    if schedule == "weekly":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def run_scheduled(kind: str, today: dt.date | None = None) -> ReportRun:
    """The beat entry point: the kind's last complete period, every place and format."""
    spec = KINDS[kind]
    date_from, date_to = scheduled_period(spec.schedule or "daily", today or timezone.localdate())
    params = ReportParams(date_from=date_from, date_to=date_to, formats=spec.formats, language=settings.LANGUAGE_CODE)
    return run_now(kind, params, trigger=Trigger.SCHEDULE)


# --- downloads and retention -----------------------------------------------------------------


def download(user, report_file: ReportFile, request=None, agreement=None) -> FileResponse:
    """Open a report file for ``user`` and write the access-log row (no person ids: reports
    are aggregates; ``agreement``: the partner's, for API downloads). The caller has already
    checked visibility (``ReportRun.visible_to``)."""
    run = report_file.run
    log_access(user=user, action=AccessAction.REPORT_DOWNLOAD, object_type="reports.reportfile", object_ids=[],
               purpose=f"report:{run.kind}:{run.pk}", request=request, agreement=agreement)
    handle = default_storage.open(report_file.storage_name, "rb")
    return FileResponse(handle, as_attachment=True, filename=report_file.filename)


def purge_expired(now: dt.datetime | None = None, *, dry_run: bool = False) -> int:
    """Delete runs finished more than REPORT_RETENTION_DAYS ago, with their files; returns the
    number of runs removed (or, with ``dry_run``, that would be). Their fingerprints become
    free: a new request builds afresh. The one implementation: privacy's daily retention purge
    (class ``report_files``) calls it too."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.REPORT_RETENTION_DAYS)
    removed = 0
    for run in ReportRun.objects.filter(finished_at__lt=cutoff).iterator():
        if not dry_run:
            with transaction.atomic():
                generation.remove_stored_files(run)
                run.delete()
        removed += 1
    return removed
