"""Rules of recording events (SECURITY.md bad inputs row 7 and row 19, RL-3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.transit.conftest import days_ago, key, make_person, record
from transit import services
from transit.models import HeadCount, TransitEvent
from transit.services import EventInput, IdempotencyConflict
from transit.vocabulary import EventKind, FlagReason

pytestmark = pytest.mark.django_db


def _error_fields(exc_info) -> set[str]:
    return set(exc_info.value.message_dict)


def test_entry_is_recorded_with_history(registrar, crossing, person):
    event = record(registrar, crossing, EventKind.ENTRY, person)
    assert event.replayed is False and event.flag == ""
    assert event.recorded_by == registrar
    history = event.history.get()
    assert history.history_user == registrar and history.history_change_reason == "recorded (form)"


@pytest.mark.parametrize(
    ("when", "field"),
    [
        (lambda: timezone.now() + dt.timedelta(minutes=30), "occurred_at"),
        (lambda: dt.datetime(1989, 12, 31, 23, 0, tzinfo=dt.UTC), "occurred_at"),
        (lambda: dt.datetime(2024, 5, 1, 10, 0), "occurred_at"),  # naive
    ],
    ids=["future", "before-1990", "naive"],
)
def test_bad_times_are_refused_on_the_field(registrar, crossing, person, when, field):
    with pytest.raises(ValidationError) as exc:
        record(registrar, crossing, EventKind.ENTRY, person, at=when())
    assert field in _error_fields(exc)
    assert not TransitEvent.objects.exists()


def test_small_clock_skew_is_accepted(registrar, crossing, person):
    event = record(registrar, crossing, EventKind.ENTRY, person, at=timezone.now() + dt.timedelta(minutes=5))
    assert event.pk


def test_place_not_assigned_is_refused(registrar, gt_post, person):
    with pytest.raises(ValidationError) as exc:
        record(registrar, gt_post, EventKind.ENTRY, person)
    assert _error_fields(exc) == {"place"}


def test_analyst_cannot_record(make_user, crossing, person):
    analyst = make_user("analyst", places=[crossing])
    with pytest.raises(PermissionDenied):
        record(analyst, crossing, EventKind.ENTRY, person)


def test_person_and_head_count_together_are_refused(registrar, crossing, person):
    with pytest.raises(ValidationError) as exc:
        record(registrar, crossing, EventKind.ENTRY, person, head_count={"f_0_4": 1})
    assert "person" in _error_fields(exc)


def test_neither_person_nor_head_count_is_refused(registrar, crossing):
    with pytest.raises(ValidationError) as exc:
        record(registrar, crossing, EventKind.ENTRY)
    assert "person" in _error_fields(exc)


def test_database_enforces_person_xor_head_count(registrar, crossing, person):
    from django.db import IntegrityError, transaction

    counted = HeadCount.objects.create(f_18_59=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        TransitEvent.objects.create(place=crossing, kind="entry", occurred_at=timezone.now(), person=person,
                                    head_count=counted, recorded_by=registrar, idempotency_key=key())


def test_exit_without_entry_is_accepted_but_flagged(registrar, crossing, person):
    event = record(registrar, crossing, EventKind.EXIT, person)
    assert event.pk and event.flag == FlagReason.EXIT_WITHOUT_ENTRY


def test_exit_after_entry_is_not_flagged(registrar, crossing, person):
    record(registrar, crossing, EventKind.ENTRY, person, at=days_ago(2))
    assert record(registrar, crossing, EventKind.EXIT, person).flag == ""


def test_second_exit_is_flagged(registrar, crossing, person):
    record(registrar, crossing, EventKind.ENTRY, person, at=days_ago(3))
    record(registrar, crossing, EventKind.EXIT, person, at=days_ago(2))
    assert record(registrar, crossing, EventKind.EXIT, person).flag == FlagReason.EXIT_WITHOUT_ENTRY


# --- idempotency (RL-3, bad inputs row 19) ---------------------------------------------------


def test_same_key_twice_records_one_event(registrar, crossing, person):
    at = days_ago(1)
    first = record(registrar, crossing, EventKind.ENTRY, person, at=at, idem="same-key-0001")
    again = record(registrar, crossing, EventKind.ENTRY, person, at=at, idem="same-key-0001")
    assert again.pk == first.pk and again.replayed is True
    assert TransitEvent.objects.count() == 1


def test_same_key_without_time_replays(registrar, crossing, person):
    first = record(registrar, crossing, EventKind.ENTRY, person, idem="tap-twice-0001")
    assert record(registrar, crossing, EventKind.ENTRY, person, idem="tap-twice-0001").pk == first.pk


def test_same_key_different_body_is_an_error(registrar, crossing, person):
    record(registrar, crossing, EventKind.ENTRY, person, idem="same-key-0002")
    with pytest.raises(IdempotencyConflict) as exc:
        record(registrar, crossing, EventKind.EXIT, person, idem="same-key-0002")
    assert "idempotency_key" in exc.value.message_dict
    assert TransitEvent.objects.count() == 1


@pytest.mark.parametrize("bad", ["", "short", "x" * 10_000, "with space key", "ключ-12345678"])
def test_malformed_keys_are_refused(registrar, crossing, person, bad):
    with pytest.raises(ValidationError) as exc:
        record(registrar, crossing, EventKind.ENTRY, person, idem=bad or None) if bad else services.record_event(
            registrar, EventInput(place=crossing, kind="entry", person=person, idempotency_key=""))
    assert "idempotency_key" in _error_fields(exc)


# --- head counts -------------------------------------------------------------------------------


def test_head_count_is_recorded_without_identity(registrar, crossing):
    event = record(registrar, crossing, EventKind.ENTRY, head_count={"f_18_59": 2, "m_0_4": 1, "nationality": "HN"})
    assert event.person is None and event.head_count.total == 3
    assert event.head_count.nationality == "HN"


@pytest.mark.parametrize("cells", [{}, {"f_18_59": -1}, {"f_18_59": "3"}, {"f_18_59": True}, {"q_1": 2}])
def test_bad_head_counts_are_refused(registrar, crossing, cells):
    with pytest.raises(ValidationError):
        record(registrar, crossing, EventKind.ENTRY, head_count=cells)
    assert not HeadCount.objects.exists()


def test_person_from_another_nationality_can_be_recorded(supervisor, crossing):
    honduran = make_person(supervisor, crossing, nationality="HN", given="Luis")
    assert record(supervisor, crossing, EventKind.ENTRY, honduran).person == honduran
