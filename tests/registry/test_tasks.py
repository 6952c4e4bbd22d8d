"""registry.scan_duplicates: published by the outbox, consumed once (eager mode, no broker)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from config.celery import app as celery_app
from privacy import outbox
from privacy.models import ConsumedMessage, OutboxMessage
from registry.models import DuplicateCandidate
from registry.tasks import SCAN_DUPLICATES, scan_duplicates
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person


@pytest.fixture
def place(db):
    return PlaceFactory()


@pytest.fixture
def registrar(make_user, place):
    return make_user("registrar", places=[place], agency=AgencyFactory())


def register_pair(registrar, place):
    first = register_person(registrar, place, given_names="José", first_surname="Pérez", second_surname="Gómez", sex="m")
    second = register_person(
        registrar, place, given_names="Jose", first_surname="Gomez", second_surname="Perez", sex="m",
        birth_precision="year", birth_year=1990,
    )
    return first.person, second.person


def test_task_is_registered_under_the_outbox_name():
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    celery_app.loader.import_default_modules()
    task = celery_app.tasks[SCAN_DUPLICATES]
    assert task.name == scan_duplicates.name == SCAN_DUPLICATES
    assert task.run.__module__ == "registry.tasks"


def test_relay_records_candidates_once_and_a_second_relay_is_a_noop(registrar, place):
    a, b = register_pair(registrar, place)
    messages = OutboxMessage.objects.filter(task_name=SCAN_DUPLICATES)
    assert messages.count() == 2 and not messages.filter(published_at__isnull=False).exists()
    assert not DuplicateCandidate.objects.exists()  # nothing happens before the relay

    assert outbox.relay() == 2
    pair = DuplicateCandidate.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {a.pk, b.pk}
    assert pair.person_a_id < pair.person_b_id
    assert ConsumedMessage.objects.filter(task_name=SCAN_DUPLICATES).count() == 2
    assert not messages.filter(published_at__isnull=True).exists()
    assert set(messages.values_list("last_error", flat=True)) == {""}

    assert outbox.relay() == 0
    assert DuplicateCandidate.objects.count() == 1
    assert ConsumedMessage.objects.count() == 2


def test_redelivery_of_the_same_message_does_no_work(registrar, place):
    a, _b = register_pair(registrar, place)
    outbox.relay()
    message = OutboxMessage.objects.get(kwargs__person_id=str(a.pk))
    DuplicateCandidate.objects.all().delete()  # if the work ran again, the pair would come back
    result = scan_duplicates.apply(kwargs={"person_id": str(a.pk), "outbox_id": str(message.pk)}, throw=True)
    assert result.get() == 0
    assert not DuplicateCandidate.objects.exists()
    # A new message for the same person does the work.
    assert scan_duplicates.apply(kwargs={"person_id": str(a.pk), "outbox_id": str(uuid.uuid4())}).get() == 1
    assert DuplicateCandidate.objects.count() == 1


def test_unknown_person_is_skipped_and_consumed(db):
    outbox_id = uuid.uuid4()
    assert scan_duplicates.apply(kwargs={"person_id": str(uuid.uuid4()), "outbox_id": str(outbox_id)}).get() == 0
    assert ConsumedMessage.objects.filter(message_id=outbox_id).exists()


@pytest.mark.django_db(transaction=True)
def test_commit_publishes_and_records_candidates_without_a_broker(registrar, place):
    """Embedded mode: the outbox relays on commit and runs the task in-process."""
    a, b = register_pair(registrar, place)
    pair = DuplicateCandidate.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {a.pk, b.pk}
    assert not OutboxMessage.objects.filter(task_name=SCAN_DUPLICATES, published_at__isnull=True).exists()
    assert outbox.relay() == 0
    assert DuplicateCandidate.objects.count() == 1
