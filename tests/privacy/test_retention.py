"""Retention: each data class is purged when its period is over and not a day before, and no
other class is touched; dry runs change nothing; the purge is logged (SECURITY.md DP-4, LG-3)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from privacy import retention
from privacy.access_log import log_access
from privacy.models import AccessLog, ErasureRecord, RequestStatus, RetentionRun, RightsRequest
from privacy.rights import services
from privacy.tasks import retention_purge
from registry import services as registry_services
from registry.models import Person, Vulnerability
from reports.models import ReportFile, ReportRun
from tests.privacy.rights_world import make_world
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

NEVER = 100_000
CLASSES = ("identity", "drafts", "vulnerability", "events", "access_logs", "report_files")


@pytest.fixture
def periods(settings):
    """Every class kept 'forever'; a test shortens the one it is about."""
    for setting in retention.CLASSES.values():
        setattr(settings, setting, NEVER)
    return settings


def ago(days: float):
    return time_machine.travel(timezone.now() - dt.timedelta(days=days), tick=False)


def only(counts: dict, name: str) -> dict:
    return {k: v for k, v in counts.items() if k != name and k in CLASSES and v}


def test_identity_class(make_user, periods):
    periods.RETENTION_IDENTITY_DAYS = 100
    with ago(101):
        old = make_world(make_user)
        protected = register_person(old.registrar, old.place, given_names="Con Canalización")
        registry_services.refer(
            old.supervisor, protected.person, service="shelter", to_agency=old.agency
        )
    with ago(99):
        recent = make_world(make_user)
    run = retention.purge()
    assert Person.objects.get(pk=old.person.pk).status == "erased"
    assert Person.objects.get(pk=recent.person.pk).status == "active"
    assert Person.objects.get(pk=protected.person_id).status == "active"
    assert run.counts["identity"] == 1 and run.skipped == {"identity": 1}
    assert ErasureRecord.objects.get(person=old.person).reason == "retention:identity"
    assert only(run.counts, "identity") == {}


def test_a_recent_movement_keeps_an_old_identity(make_user, periods):
    from transit.models import TransitEvent

    periods.RETENTION_IDENTITY_DAYS = 100
    with ago(150):
        old = make_world(make_user)
    with ago(5):
        TransitEvent.objects.create(
            place=old.place,
            kind="entry",
            occurred_at=timezone.now(),
            person=old.person,
            recorded_by=old.registrar,
            idempotency_key="rt-1",
            fingerprint="x",
        )
    assert retention.purge().counts["identity"] == 0


def test_drafts_class(make_user, periods):
    periods.RETENTION_DRAFTS_DAYS = 10
    with ago(11):
        world = make_world(make_user)  # submitted: not a draft
        stale = register_person(world.registrar, world.place, given_names="Borrador Viejo")
    with ago(9):
        fresh = register_person(world.registrar, world.place, given_names="Borrador Nuevo")
    run = retention.purge()
    assert Person.objects.get(pk=stale.person_id).status == "erased"
    assert Person.objects.get(pk=fresh.person_id).status == "active"
    assert Person.objects.get(pk=world.person.pk).status == "active"
    assert run.counts["drafts"] == 1 and only(run.counts, "drafts") == {}


def test_vulnerability_class(make_user, periods):
    periods.RETENTION_VULNERABILITY_DAYS = 50
    with ago(51):
        world = make_world(make_user)
        old_inactive = registry_services.flag(
            world.registrar, world.person, "disability", details="viejo inactivo"
        )
        old_active = registry_services.flag(
            world.registrar, world.person, "serious_medical", details="viejo activo"
        )
    with ago(49):
        new_inactive = registry_services.flag(
            world.registrar, world.person, "pregnant_lactating", details="nuevo"
        )
    Vulnerability.objects.filter(pk__in=[old_inactive.pk, new_inactive.pk]).update(is_active=False)
    run = retention.purge()
    assert Vulnerability.objects.get(pk=old_inactive.pk).details == ""
    assert not Vulnerability.history.model.objects.filter(id=old_inactive.pk).exists()
    assert Vulnerability.objects.get(pk=old_active.pk).details == "viejo activo"
    assert Vulnerability.objects.get(pk=new_inactive.pk).details == "nuevo"
    assert run.counts["vulnerability"] == 1 and only(run.counts, "vulnerability") == {}


def test_events_class_is_the_change_history(make_user, periods):
    periods.RETENTION_EVENTS_DAYS = 200
    with ago(201):
        old = make_world(make_user)
    with ago(199):
        new = make_world(make_user)
    old_rows = Person.history.filter(id=old.person.pk).count()
    run = retention.purge()
    assert old_rows and not Person.history.filter(id=old.person.pk).exists()
    assert Person.history.filter(id=new.person.pk).exists()
    assert (
        Person.objects.get(pk=old.person.pk).given_names == old.person.given_names
    )  # live row untouched
    assert run.counts["events"] >= old_rows and only(run.counts, "events") == {}


def test_access_log_class_through_the_logged_path(make_user, periods):
    periods.RETENTION_ACCESS_LOG_DAYS = 300
    reader = make_user("supervisor")
    with ago(301):
        old = log_access(user=reader, action="list", object_type="registry.person", object_ids=[])
    with ago(299):
        kept = log_access(user=reader, action="list", object_type="registry.person", object_ids=[])
    run = retention.purge()
    assert (
        not AccessLog.objects.filter(pk=old.pk).exists()
        and AccessLog.objects.filter(pk=kept.pk).exists()
    )
    assert run.counts["access_logs"] == 1 and only(run.counts, "access_logs") == {}


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="trigger is PostgreSQL only",
)
def test_access_log_stays_append_only_outside_the_purge(make_user):
    row = log_access(
        user=make_user("supervisor"), action="list", object_type="registry.person", object_ids=[]
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('frontera.purge', 'on', true)")
        AccessLog.objects.filter(pk=row.pk).update(purpose="rewritten")  # UPDATE: never
    assert AccessLog.objects.filter(pk=row.pk, purpose="").exists()


def _report(days_ago: float) -> tuple[ReportRun, str]:
    run = ReportRun.objects.create(
        kind="daily_flows",
        parameters={"date_from": "2020-01-01", "date_to": "2020-01-02"},
        status="done",
        data_version="v",
        fingerprint=f"{days_ago:064.0f}",
        finished_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    name = default_storage.save(f"reports/{run.pk}/r.csv", ContentFile(b"a,b\n"))
    ReportFile.objects.create(
        run=run, format="csv", storage_name=name, size=4, sha256="0" * 64, row_count=1
    )
    return run, name


def test_report_files_class(periods):
    periods.REPORT_RETENTION_DAYS = 20
    old, old_name = _report(21)
    new, new_name = _report(19)
    run = retention.purge()
    assert not ReportRun.objects.filter(pk=old.pk).exists() and not default_storage.exists(old_name)
    assert ReportRun.objects.filter(pk=new.pk).exists() and default_storage.exists(new_name)
    assert run.counts["report_files"] == 1 and only(run.counts, "report_files") == {}


def test_dry_run_counts_everything_and_changes_nothing(make_user, settings):
    for setting in retention.CLASSES.values():
        setattr(settings, setting, 10)
    with ago(11):
        world = make_world(make_user)
        log_access(user=world.dpo, action="list", object_type="registry.person", object_ids=[])
    report, name = _report(11)
    history = sum(model.objects.count() for model in retention.history_models())
    run = retention_purge.apply(kwargs={"dry_run": True}).get()
    assert (
        run["identity"] == 1
        and run["access_logs"] >= 1
        and run["report_files"] == 1
        and run["events"] > 0
    )
    assert Person.objects.get(pk=world.person.pk).status == "active"
    assert AccessLog.objects.count() >= 1 and default_storage.exists(name)
    assert sum(model.objects.count() for model in retention.history_models()) == history
    logged = RetentionRun.objects.get()
    assert logged.dry_run and logged.finished_at and logged.counts == run
    assert set(logged.cutoffs) == set(retention.CLASSES)


def test_purge_erases_blocked_people_whose_period_is_over(make_user, periods):
    periods.RIGHTS_BLOCKING_DAYS = 3
    world = make_world(make_user)
    request = services.open_request(
        world.dpo,
        person_reference=world.person.reference,
        right="cancellation",
        requester="subject",
        identity_check="Pasaporte",
    )
    services.block(world.dpo, request)
    assert retention.purge().counts["blocked_erased"] == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=4)):
        run = retention.purge()
    assert run.counts["blocked_erased"] == 1
    assert RightsRequest.objects.get(pk=request.pk).status == RequestStatus.COMPLETED
    assert Person.objects.get(pk=world.person.pk).status == "erased"


def test_daily_purge_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry == {"task": "privacy.retention_purge", "schedule": 86_400.0}


def test_retention_page_runs_a_dry_run(make_user, periods):
    from tests.conftest import verified_client

    client = verified_client(make_user("data_protection"))
    response = client.post("/privacy/retention/")
    assert response.status_code == 302 and RetentionRun.objects.get().dry_run
    assert client.get("/privacy/retention/").status_code == 200
    assert verified_client(make_user("registrar")).get("/privacy/retention/").status_code == 403
