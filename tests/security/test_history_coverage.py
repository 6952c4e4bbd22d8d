"""Which writer records history where (SECURITY.md LG-2; see docs/architecture.md).

On PostgreSQL the database's triggers write every history row (tests/security/
test_history_triggers.py proves each write route), and django-simple-history's Python writer is
off, so a save leaves exactly one row. On SQLite — the zero-install demo, no triggers — the Python
writer records ``save()`` and ``delete()`` only; bulk and raw writes leave no history there (a
documented limit of the demo). These tests run in both suites (marked ``smoke``).

This replaces the former source scan and its allow-list of reviewed bulk writes: with the
triggers, a bulk or raw write can no longer bypass history on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from privacy.history import save_with_history
from registry.models import Person
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


@pytest.fixture
def person_and_official(make_user):
    place = PlaceFactory()
    official = make_user("registrar", places=[place], agency=AgencyFactory())
    return register_person(official, place, given_names="Aurelia").person, official


def test_the_python_writer_runs_only_where_no_trigger_writes():
    assert settings.SIMPLE_HISTORY_ENABLED is (connection.vendor != "postgresql")


def test_an_attributed_save_leaves_exactly_one_row_on_either_database(person_and_official):
    person, official = person_and_official
    before = Person.history.filter(id=person.pk).count()
    person = Person.objects.get(pk=person.pk)
    person.second_surname = "Cumes"
    save_with_history(person, official, "corrected")
    after = list(Person.history.filter(id=person.pk).order_by("-history_date", "-history_id"))
    assert len(after) == before + 1  # no double rows (trigger and Python writer never both)
    assert (after[0].history_user_id, after[0].history_change_reason) == (official.pk, "corrected")
    assert after[0].second_surname == "Cumes"


def test_bulk_writes_are_recorded_on_postgresql_and_not_in_the_sqlite_demo(person_and_official):
    person, _official = person_and_official
    before = Person.history.filter(id=person.pk).count()
    Person.objects.filter(pk=person.pk).update(birth_year=1977)
    recorded = Person.history.filter(id=person.pk).count() - before
    assert recorded == (1 if connection.vendor == "postgresql" else 0)
