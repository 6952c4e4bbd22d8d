"""Cancellation: blocking first, then erasure from every copy, with a tombstone (DP-3, DP-4).
On PostgreSQL the raw tables are read to prove the personal data is gone, not just hidden."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from accounts.agreements import pseudonyms_for
from api.models import IdempotencyRecord, WebhookEndpoint
from privacy import erasure
from privacy.models import ErasureRecord, OutboxMessage, RequestStatus
from privacy.rights import blocking, services
from registry import services as registry_services
from registry.models import IdentityDocument, Person, PersonNameTerm, Referral, Vulnerability
from reports.models import ReportFile, ReportRun
from reports.signals import DASHBOARD_VERSION_KEY, dashboard_version
from tests.conftest import verified_client
from tests.privacy.rights_world import CANARY_GIVEN, make_agreement, make_world, partner_agency
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

PASSPORT = "G55501234"


def _cancellation(world):
    return services.open_request(
        world.dpo,
        person_reference=world.person.reference,
        right="cancellation",
        requester="subject",
        identity_check="Pasaporte mostrado en persona",
    )


def _rich_person(world):
    """The person with a document, a closed referral, a flag, a partner that saw them (webhook
    endpoint), a stored API response, a report file covering their registration day."""
    person = world.person
    registry_services.add_document(
        world.registrar, person, kind="passport", number=PASSPORT, issuing_country="GT"
    )
    registry_services.flag(
        world.registrar, person, "disability", details="Detalle sensible canario"
    )
    referral = registry_services.refer(
        world.supervisor, person, service="legal", to_agency=world.agency
    )
    Referral.objects.filter(pk=referral.pk).update(status="completed")
    agreement = make_agreement(partner_agency(), [world.place], legal_basis="public_interest")
    WebhookEndpoint.objects.create(
        agreement=agreement, url="https://partner.example.org/hook", secret="whsec_" + "A" * 44
    )
    pseudonym = pseudonyms_for(agreement.agency_id, [person.pk])[person.pk]
    IdempotencyRecord.objects.create(
        agency=agreement.agency,
        key_hash="a" * 64,
        fingerprint="b" * 64,
        status_code=201,
        body={"person": pseudonym, "kind": "entry"},
    )
    day = timezone.localdate(world.registration.registered_at)
    run = ReportRun.objects.create(
        kind="daily_flows",
        parameters={"date_from": str(day), "date_to": str(day)},
        status="done",
        data_version="v1",
        fingerprint="f" * 64,
        finished_at=timezone.now(),
    )
    name = default_storage.save(
        f"reports/{run.pk}/flujos.csv", ContentFile(b"lugar,total\nRGT,1\n")
    )
    ReportFile.objects.create(
        run=run, format="csv", storage_name=name, size=18, sha256="0" * 64, row_count=1
    )
    return agreement, run, name


def test_blocking_comes_first_and_erasure_waits_for_the_period(make_user, settings):
    settings.RIGHTS_BLOCKING_DAYS = 30
    world = make_world(make_user)
    request = _cancellation(world)
    with pytest.raises(ValidationError):
        services.erase(world.dpo, request)  # not blocked yet
    services.block(world.dpo, request)
    request.refresh_from_db()
    assert request.status == RequestStatus.BLOCKED and blocking.is_blocked(world.person)
    assert request.blocked_until > timezone.now() + dt.timedelta(days=29)
    with pytest.raises(ValidationError):
        services.erase(world.dpo, request)
    assert Person.objects.get(pk=world.person.pk).given_names == CANARY_GIVEN
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        services.erase(world.dpo, request)
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED and not blocking.is_blocked(world.person)


def test_blocked_people_are_excluded_for_all_but_the_data_protection_role(make_user):
    world = make_world(make_user)
    services.block(world.dpo, _cancellation(world))
    people = Person.objects.filter(pk=world.person.pk)
    assert not blocking.exclude_blocked(people, world.supervisor).exists()
    assert not blocking.exclude_blocked(people).exists()
    assert blocking.exclude_blocked(people, world.dpo).exists()


def test_blocked_person_is_hidden_from_registry_pages_and_partners(make_user):
    world = make_world(make_user)
    agreement = make_agreement(partner_agency(), [world.place], legal_basis="public_interest")
    services.block(world.dpo, _cancellation(world))
    assert not Person.objects.visible_to(world.supervisor).filter(pk=world.person.pk).exists()
    assert not Person.objects.visible_to_agreement(agreement).filter(pk=world.person.pk).exists()


def test_erasure_removes_every_copy_and_keeps_a_tombstone(
    make_user, settings, django_capture_on_commit_callbacks
):
    settings.RIGHTS_BLOCKING_DAYS = 0
    world = make_world(make_user)
    agreement, run, stored = _rich_person(world)
    person = world.person
    reference = person.reference
    request = _cancellation(world)
    services.block(world.dpo, request)
    generation = dashboard_version()
    with django_capture_on_commit_callbacks(execute=True):
        services.erase(world.dpo, request)

    person = Person.objects.get(pk=person.pk)
    assert person.status == "erased" and person.reference == reference
    assert (person.given_names, person.first_surname, person.aliases, person.birth_date) == (
        "",
        "",
        [],
        None,
    )
    assert not IdentityDocument.objects.filter(person=person).exists()
    assert not PersonNameTerm.objects.filter(person=person).exists()
    assert Vulnerability.objects.get(person=person).details == ""
    assert Vulnerability.objects.filter(person=person).count() == 1  # the kind stays for statistics
    # history: only the erased state is left
    assert [h.given_names for h in person.history.all()] == [""]
    assert not IdentityDocument.history.model.objects.filter(person_id=person.pk).exists()
    assert all(
        h.details == "" for h in Vulnerability.history.model.objects.filter(person_id=person.pk)
    )
    # outbox, stored API responses, report files, cached aggregates
    pending = OutboxMessage.objects.filter(published_at__isnull=True).exclude(
        task_name="api.deliver_webhook"
    )
    assert not [m for m in pending if str(person.pk) in str(m.kwargs)]
    assert not IdempotencyRecord.objects.exists()
    assert not ReportRun.objects.filter(pk=run.pk).exists() and not default_storage.exists(stored)
    assert cache.get(DASHBOARD_VERSION_KEY) != generation
    # partners who were shown the person are told, by a signed webhook through the outbox
    notices = OutboxMessage.objects.filter(
        task_name="api.deliver_webhook", kwargs__event_type="person.erased"
    )
    assert notices.count() == 1 and notices.get().kwargs["object_id"] == str(person.pk)
    record = ErasureRecord.objects.get(person=person)
    assert record.request == request and record.erased_by == world.dpo
    assert (
        record.counts["documents"] == 1
        and record.counts["report_runs"] == 1
        and record.counts["history_rows"] > 0
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads PostgreSQL column types (what a dump shows)"
)
def test_no_plaintext_or_ciphertext_of_the_person_left_in_the_tables(make_user, settings):
    """Every text column of every table is read raw: the canary document number and the
    ciphertexts the person had before are gone (PostgreSQL: what a dump would show)."""
    settings.RIGHTS_BLOCKING_DAYS = 0
    world = make_world(make_user)
    _rich_person(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT given_names FROM registry_person WHERE id = %s", [world.person.pk])
        ciphertext = cursor.fetchone()[0]
    request = _cancellation(world)
    services.block(world.dpo, request)
    services.erase(world.dpo, request)
    hits = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            columns = connection.introspection.get_table_description(cursor, table)
            for column in columns:
                if column.type_code not in (25, 1043, 3802, 114):  # text, varchar, jsonb, json
                    continue
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column.name}"::text LIKE %s OR "{column.name}"::text LIKE %s',  # noqa: S608
                    [f"%{ciphertext}%", f"%{PASSPORT}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column.name}")
    assert hits == []


def test_open_protection_referral_refuses_and_escalates_with_nothing_changed(make_user):
    world = make_world(make_user)
    registry_services.refer(
        world.supervisor, world.person, service="shelter", to_agency=world.agency
    )
    request = _cancellation(world)
    client = verified_client(world.dpo)
    response = client.post(f"/privacy/requests/{request.pk}/block/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.ESCALATED and request.escalated_to == world.supervisor
    assert (
        "referral" in request.decision_reason.lower()
        or "canaliz" in request.decision_reason.lower()
    )
    assert not blocking.is_blocked(world.person)
    page = client.get(f"/privacy/requests/{request.pk}/")
    assert page.context["open_referrals"] == 1
    assert (
        verified_client(world.supervisor).get(f"/privacy/requests/{request.pk}/").status_code == 200
    )


def test_referral_opened_during_the_blocking_period_refuses_the_erasure(make_user, settings):
    settings.RIGHTS_BLOCKING_DAYS = 0
    world = make_world(make_user)
    request = _cancellation(world)
    services.block(world.dpo, request)
    registry_services.refer(
        world.supervisor, world.person, service="shelter", to_agency=world.agency
    )
    with pytest.raises(erasure.ErasureRefused):
        services.erase(world.dpo, request)
    request.refresh_from_db()
    person = Person.objects.get(pk=world.person.pk)
    assert request.status == RequestStatus.ESCALATED and person.status == "active"
    assert person.given_names == CANARY_GIVEN and not ErasureRecord.objects.exists()


def test_a_failure_half_way_leaves_nothing_half_done(make_user, settings, monkeypatch):
    """Fault injection: the last step fails; every earlier step rolls back with it."""
    settings.RIGHTS_BLOCKING_DAYS = 0
    world = make_world(make_user)
    _, run, _ = _rich_person(world)
    request = _cancellation(world)
    services.block(world.dpo, request)
    history_before = world.person.history.count()

    def broken(person):
        raise RuntimeError("partner notice failed")

    monkeypatch.setitem(erasure._PARTS, "zz-broken", erasure.ErasurePart("zz-broken", announce=broken))
    with pytest.raises(RuntimeError):
        services.erase(world.dpo, request)
    person = Person.objects.get(pk=world.person.pk)
    assert person.status == "active" and person.given_names == CANARY_GIVEN
    assert IdentityDocument.objects.filter(person=person).count() == 1
    assert person.history.count() == history_before and ReportRun.objects.filter(pk=run.pk).exists()
    assert not ErasureRecord.objects.exists()
    request.refresh_from_db()
    assert request.status == RequestStatus.BLOCKED


def test_erased_person_cannot_be_asked_about_again(make_user, settings):
    settings.RIGHTS_BLOCKING_DAYS = 0
    world = make_world(make_user)
    request = _cancellation(world)
    services.block(world.dpo, request)
    services.erase(world.dpo, request)
    with pytest.raises(ValidationError) as exc:
        services.open_request(
            world.dpo,
            person_reference=world.person.reference,
            right="access",
            requester="subject",
            identity_check="x",
        )
    assert "person_reference" in exc.value.message_dict
    with pytest.raises(erasure.ErasureError):
        erasure.erase_person(world.dpo, world.person, reason="again")


def test_only_the_data_protection_role_blocks_and_erases(make_user):
    world = make_world(make_user)
    request = _cancellation(world)
    response = verified_client(world.supervisor).post(f"/privacy/requests/{request.pk}/block/")
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED


def test_merged_record_stands_for_its_survivor_and_is_erased_with_it(make_user, settings):
    settings.RIGHTS_BLOCKING_DAYS = 0
    world = make_world(make_user)
    twin = register_person(
        world.registrar, world.place, given_names="Canaria Duplicada", first_surname="Xocoyotzin"
    )
    registry_services.merge_people(
        world.supervisor, world.person, twin.person, "Misma persona: mismo pasaporte"
    )
    request = services.open_request(
        world.dpo,
        person_reference=twin.person.reference,
        right="cancellation",
        requester="subject",
        identity_check="Pasaporte",
    )
    assert request.person == world.person
    from api.models import IdempotencyRecord

    stored = IdempotencyRecord.objects.create(agency=world.registrar.agency, key_hash="k" * 64, fingerprint="f" * 64,
                                              status_code=201, body={"person": str(twin.person_id)})
    services.block(world.dpo, request)
    services.erase(world.dpo, request)
    assert not IdempotencyRecord.objects.filter(pk=stored.pk).exists()  # a copy about the merged record
    merged = Person.objects.get(pk=twin.person_id)
    assert (
        merged.status == "erased"
        and merged.given_names == ""
        and merged.reference == twin.person.reference
    )
    assert ErasureRecord.objects.get(person=world.person).counts["merged_records"] == 1
