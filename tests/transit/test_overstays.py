"""Authorised stay and overstay detection (computed by PostgreSQL), at day boundaries, across
the Mexico/Guatemala time zones, and on a synthetic month of events."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.transit.conftest import GT, MX, make_person, record
from transit import services
from transit.models import Permit
from transit.overstays import EXITED_LATE, NO_EXIT, overstay_summary, overstays
from transit.tasks import detect_overstays

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def card(actor, person, kind="tvr", start=dt.date(2021, 1, 1), end=dt.date(2021, 12, 31)):
    permit = services.issue_permit(actor, person, kind=kind)
    Permit.objects.filter(pk=permit.pk).update(valid_from=start, valid_until=end)
    return permit


def listed(at, **filters):
    return {(row.person_id, row.overstay) for row in overstays(at=at, **filters)}


def test_tvr_stay_ends_at_local_midnight_after_seven_days(supervisor, crossing, person):
    card(supervisor, person)
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 23, 30, tzinfo=MX))
    assert listed(dt.datetime(2021, 3, 7, 23, 59, tzinfo=MX)) == set()
    assert listed(dt.datetime(2021, 3, 8, 0, 1, tzinfo=MX)) == {(person.pk, NO_EXIT)}
    row = overstays(at=dt.datetime(2021, 3, 8, 0, 1, tzinfo=MX)).get()
    assert row.deadline == dt.datetime(2021, 3, 8, 0, 0, tzinfo=MX)


def test_entry_just_after_local_midnight_gets_the_same_deadline(supervisor, crossing, person):
    card(supervisor, person)
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 0, 5, tzinfo=MX))
    assert overstays(at=dt.datetime(2021, 3, 9, tzinfo=MX)).get().deadline == dt.datetime(2021, 3, 8, tzinfo=MX)


def test_same_instant_counts_in_the_zone_of_the_place(supervisor, crossing, gt_post):
    """05:30 UTC on 10 July 2021 is 00:30 on the 10th in Mexico City (CDT, UTC-5, before Mexico
    dropped summer time) but 23:30 on the 9th in Guatemala (UTC-6): the stays end a day apart."""
    in_mexico = make_person(supervisor, crossing, given="Rosa")
    in_guatemala = make_person(supervisor, crossing, given="Marta")
    card(supervisor, in_mexico)
    card(supervisor, in_guatemala)
    instant = dt.datetime(2021, 7, 10, 5, 30, tzinfo=UTC)
    record(supervisor, crossing, "entry", in_mexico, at=instant)
    record(supervisor, gt_post, "entry", in_guatemala, at=instant)
    check = dt.datetime(2021, 7, 16, 12, 0, tzinfo=UTC)
    assert listed(check) == {(in_guatemala.pk, NO_EXIT)}
    deadlines = {row.person_id: row.deadline for row in overstays(at=dt.datetime(2021, 8, 1, tzinfo=UTC))}
    assert deadlines[in_mexico.pk] == dt.datetime(2021, 7, 17, 0, 0, tzinfo=MX) == dt.datetime(2021, 7, 17, 5, 0, tzinfo=UTC)
    assert deadlines[in_guatemala.pk] == dt.datetime(2021, 7, 16, 0, 0, tzinfo=GT) == dt.datetime(2021, 7, 16, 6, 0, tzinfo=UTC)


def test_exit_on_the_last_day_is_on_time_and_after_is_late(supervisor, crossing, person):
    other = make_person(supervisor, crossing, given="Lucía")
    for who in (person, other):
        card(supervisor, who)
        record(supervisor, crossing, "entry", who, at=dt.datetime(2021, 5, 1, 9, 0, tzinfo=MX))
    record(supervisor, crossing, "exit", person, at=dt.datetime(2021, 5, 7, 23, 59, tzinfo=MX))
    record(supervisor, crossing, "exit", other, at=dt.datetime(2021, 5, 8, 0, 1, tzinfo=MX))
    assert listed(dt.datetime(2021, 6, 1, tzinfo=UTC)) == {(other.pk, EXITED_LATE)}


def test_stay_is_capped_by_card_validity(supervisor, crossing, person):
    card(supervisor, person, start=dt.date(2021, 1, 1), end=dt.date(2021, 3, 3))
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 10, 0, tzinfo=MX))
    assert overstays(at=dt.datetime(2021, 4, 1, tzinfo=UTC)).get().deadline == dt.datetime(2021, 3, 4, tzinfo=MX)


def test_border_worker_stays_while_the_card_is_valid(supervisor, crossing, person):
    card(supervisor, person, kind="tvtf", start=dt.date(2021, 1, 1), end=dt.date(2021, 12, 31))
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 10, 0, tzinfo=MX))
    assert listed(dt.datetime(2021, 12, 31, 12, 0, tzinfo=MX)) == set()
    assert listed(dt.datetime(2022, 1, 1, 0, 1, tzinfo=MX)) == {(person.pk, NO_EXIT)}


def test_only_the_last_entry_counts(supervisor, crossing, person):
    card(supervisor, person)
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 2, 1, 10, 0, tzinfo=MX))
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 10, 0, tzinfo=MX))
    record(supervisor, crossing, "exit", person, at=dt.datetime(2021, 3, 3, 10, 0, tzinfo=MX))
    assert listed(dt.datetime(2021, 6, 1, tzinfo=UTC)) == set()


def test_revoked_card_gives_no_authorised_stay(supervisor, crossing, person):
    permit = card(supervisor, person)
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 10, 0, tzinfo=MX))
    services.revoke_permit(supervisor, permit, reason="Fraude")
    assert listed(dt.datetime(2021, 6, 1, tzinfo=UTC)) == set()


def _synthetic_month(supervisor, crossing, gt_post):
    """40 people, entries spread over June 2021; a quarter each leave on time, late, never, or
    hold a border worker card. Returns the expected {person: situation} at 1 August 2021."""
    rng = random.Random(7)
    expected = {}
    for i in range(40):
        place = crossing if i % 2 else gt_post
        nationality = "GT" if i % 3 else "BZ"
        who = make_person(supervisor, crossing, given="Persona " + "abcdefghijklmnopqrstuvwxyz"[i % 26] * (1 + i // 26), nationality=nationality)
        group = i % 4
        card(supervisor, who, kind="tvtf" if group == 3 else "tvr")
        entered = dt.datetime(2021, 6, 1, 8, tzinfo=UTC) + dt.timedelta(hours=rng.randint(0, 24 * 29))
        record(supervisor, place, "entry", who, at=entered)
        if group == 0:
            record(supervisor, place, "exit", who, at=entered + dt.timedelta(days=3))
        elif group == 1:
            record(supervisor, place, "exit", who, at=entered + dt.timedelta(days=12))
            expected[who.pk] = EXITED_LATE
        elif group == 2:
            expected[who.pk] = NO_EXIT
    return expected


def test_synthetic_month(supervisor, crossing, gt_post):
    expected = _synthetic_month(supervisor, crossing, gt_post)
    at = dt.datetime(2021, 8, 1, tzinfo=UTC)
    assert {row.person_id: row.overstay for row in overstays(at=at)} == expected
    assert overstay_summary(at=at) == {NO_EXIT: 10, EXITED_LATE: 10}
    rows = list(overstays(at=at))
    assert [r.over_by for r in rows] == sorted((r.over_by for r in rows), reverse=True)
    in_mexico = {r.person_id for r in overstays(at=at, place=crossing)}
    assert in_mexico and all(r.place_id == crossing.pk for r in overstays(at=at, place=crossing))
    belizean = overstays(at=at, nationality="BZ")
    assert belizean.exists() and all(str(r.person.nationality) == "BZ" for r in belizean)
    long_ones = list(overstays(at=at, min_days_over=30))
    assert long_ones and all(r.over_by >= dt.timedelta(days=30) for r in long_ones)
    assert len(long_ones) < len(expected)


def test_daily_task_returns_counts(supervisor, crossing, person):
    card(supervisor, person, start=dt.date(2021, 1, 1), end=dt.date(2030, 1, 1))
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 10, 0, tzinfo=MX))
    assert detect_overstays.delay().get() == {NO_EXIT: 1, EXITED_LATE: 0}
