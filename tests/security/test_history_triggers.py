"""Complete write history at the database, with actor context (SECURITY.md LG-2).

On PostgreSQL a row trigger on every table with ``HistoricalRecords`` writes the history row
(``privacy.history_triggers``), so every route — ``save()``, ``QuerySet.update()``,
``bulk_create()``, ``bulk_update()``, ``delete()``, raw SQL — leaves one, attributed with the
user, reason and request id that ``privacy.history`` sets transaction-locally before the write;
a write with no attribution is recorded as ``unattributed``. The purge path copies no deleted
personal data into history, the rotation path records no re-encryption, and TRUNCATE is refused.
"""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from privacy import crypto
from privacy.history import history_context, save_with_history
from privacy.history_triggers import HISTORY_COLUMNS, TRIGGER, tracked_tables
from privacy.middleware import HistoryContextMiddleware
from privacy.purge_path import purge_path
from privacy.rotation import rotation_path
from registry.models import IdentityDocument, Person, Vulnerability
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

REQUEST_ID = "req-lg2-0001"


@pytest.fixture
def world(make_user):
    place = PlaceFactory()
    agency = AgencyFactory()
    registrar = make_user("registrar", places=[place], agency=agency)
    supervisor = make_user("supervisor", agency=agency)
    registration = register_person(registrar, place, given_names="Custodia", first_surname="Ixcoy")
    return SimpleNamespace(
        place=place,
        registrar=registrar,
        supervisor=supervisor,
        registration=registration,
        person=registration.person,
    )


def rows(model, **lookup) -> list:
    return list(model.history.model.objects.filter(**lookup).order_by("history_id"))


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def stored(table: str, column: str, where: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {where}", params)  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


# --- coverage: every model with history has its trigger, with the history table's columns -------


def trigger_mismatches() -> list[str]:
    """Tracked tables whose trigger is missing or copies other columns than the history table has."""
    problems = []
    with connection.cursor() as cursor:
        for tracked in tracked_tables():
            cursor.execute(
                "SELECT p.prosrc FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE c.relname = %s AND t.tgname = %s "
                "AND t.tgenabled = 'O'",
                [tracked.table, TRIGGER],
            )
            found = cursor.fetchone()
            if found is None:
                problems.append(f"{tracked.table}: no history trigger")
                continue
            insert = re.search(r"INSERT INTO \S+ \(([^)]*)\)", found[0])
            copied = {
                name.strip().strip('"') for name in insert.group(1).split(",")
            } - HISTORY_COLUMNS
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                [tracked.history_table],
            )
            history = {name for (name,) in cursor.fetchall()} - HISTORY_COLUMNS
            if copied != history:
                problems.append(
                    f"{tracked.table}: trigger copies {sorted(copied ^ history)} wrongly"
                )
    return problems


def test_every_model_with_history_has_its_trigger_with_the_history_columns():
    assert connection.vendor == "postgresql"
    tables = {tracked.table for tracked in tracked_tables()}
    assert {"registry_person", "registry_identitydocument", "transit_transitevent"} <= tables
    assert len(tables) == 11
    assert trigger_mismatches() == []


def test_a_history_column_the_trigger_does_not_copy_is_noticed():
    # DDL is transactional: the test's transaction takes the column away again.
    raw("ALTER TABLE registry_historicalperson ADD COLUMN nickname text")
    assert trigger_mismatches() == ["registry_person: trigger copies ['nickname'] wrongly"]
    raw(f"DROP TRIGGER {TRIGGER} ON registry_vulnerability")
    assert "registry_vulnerability: no history trigger" in trigger_mismatches()


# --- every write route leaves an attributed row ------------------------------------------------


def _save(world):
    person = Person.objects.get(pk=world.person.pk)
    person.second_surname = "Tzul"
    person.save()
    return Person, {"id": person.pk}, "~"


def _update(world):
    Person.objects.filter(pk=world.person.pk).update(birth_year=1990)
    return Person, {"id": world.person.pk}, "~"


def _bulk_create(world):
    created = Person.objects.bulk_create([Person(given_names="Bulk"), Person(given_names="Lote")])
    return Person, {"id__in": [p.pk for p in created]}, "+"


def _bulk_update(world):
    flags = [
        Vulnerability.objects.create(person=world.person, kind=kind, details="x")
        for kind in ("pregnant_lactating", "disability")
    ]
    for flag in flags:
        flag.details = "actualizado"
    Vulnerability.objects.bulk_update(flags, ["details"])
    return Vulnerability, {"id__in": [f.pk for f in flags], "history_type": "~"}, "~"


def _raw_update(world):
    raw("UPDATE registry_person SET birth_year = 1985 WHERE id = %s", [world.person.pk])
    return Person, {"id": world.person.pk}, "~"


def _delete(world):
    document = IdentityDocument.objects.filter(person=world.person).first()
    pk = document.pk
    document.delete()
    return IdentityDocument, {"id": pk}, "-"


ROUTES = {
    "save": _save,
    "update": _update,
    "bulk_create": _bulk_create,
    "bulk_update": _bulk_update,
    "raw_update": _raw_update,
    "delete": _delete,
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_write_route_leaves_a_history_row_with_user_request_and_reason(world, route):
    if route == "delete":
        from registry.services import add_document

        add_document(
            world.registrar, world.person, kind="passport", number="G12345678", issuing_country="GT"
        )
    before = {
        model: model.history.model.objects.count()
        for model in (Person, Vulnerability, IdentityDocument)
    }
    with history_context(world.supervisor, "LG-2 prueba", request_id=REQUEST_ID):
        model, lookup, kind = ROUTES[route](world)
    written = [row for row in rows(model, **lookup) if row.history_change_reason == "LG-2 prueba"]
    assert written, f"{route}: no history row"
    assert all(
        row.history_user_id == world.supervisor.pk
        and row.history_request_id == REQUEST_ID
        and row.history_type == kind
        for row in written
    ), route
    assert model.history.model.objects.count() > before[model]


def test_an_unattributed_raw_write_is_still_recorded(world):
    raw("UPDATE registry_person SET birth_year = 1970 WHERE id = %s", [world.person.pk])
    latest = rows(Person, id=world.person.pk)[-1]
    assert latest.birth_year == 1970 and latest.history_type == "~"
    assert latest.history_user_id is None and latest.history_change_reason == "unattributed update"


@pytest.mark.django_db(transaction=True)
def test_a_write_by_another_client_is_recorded_too(make_user):
    """No Django at all (a psql-like session of its own): the database alone writes the row."""
    import psycopg

    place = PlaceFactory()
    person = register_person(make_user("registrar", places=[place]), place).person
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("UPDATE registry_person SET birth_year = 1971 WHERE id = %s", [person.pk])
    latest = rows(Person, id=person.pk)[-1]
    assert latest.birth_year == 1971 and latest.history_type == "~"
    assert latest.history_user_id is None and latest.history_change_reason == "unattributed update"


def test_save_with_history_and_the_instance_convention_attribute_the_row(world):
    person = Person.objects.get(pk=world.person.pk)
    person.second_surname = "Pop"
    save_with_history(person, world.supervisor, "corrección")
    assert not hasattr(person, "_history_user")  # nothing left to stick to a later save
    latest = rows(Person, id=person.pk)[-1]
    assert (latest.history_user_id, latest.history_change_reason) == (
        world.supervisor.pk,
        "corrección",
    )
    # simple-history's convention (the admin, merges): _history_user / _change_reason on the instance.
    person._history_user, person._change_reason = world.registrar, "fusión"
    person.save()
    latest = rows(Person, id=person.pk)[-1]
    assert (latest.history_user_id, latest.history_change_reason) == (world.registrar.pk, "fusión")
    # ...used once: the next write of the table without them is unattributed.
    Person.objects.filter(pk=person.pk).update(birth_year=1999)
    assert rows(Person, id=person.pk)[-1].history_user_id is None


def test_encrypted_values_are_copied_as_ciphertext_and_read_back(world):
    with history_context(world.supervisor, "corrección"):
        Person.objects.filter(pk=world.person.pk).update(second_surname="Chavajay")
    latest = rows(Person, id=world.person.pk)[-1]
    assert latest.second_surname == "Chavajay"  # decrypts through the historical model
    tokens = stored(
        "registry_historicalperson", "second_surname", "history_id = %s", [latest.history_id]
    )
    assert tokens[0].startswith(crypto.TOKEN_PREFIX) and "Chavajay" not in tokens[0]


# --- requests: the request's user and id, never the previous request's -------------------------


def test_a_request_attributes_its_writes_and_the_next_write_is_not_theirs(world, login):
    registration = world.registration
    client = login(world.registrar)
    response = client.post(
        reverse("registry:submit", args=[registration.pk]),
        {"version": registration.version},
    )
    assert response.status_code == 302
    written = rows(registration.__class__, id=registration.pk)[-2:]
    # The version bump (QuerySet.update, no reason given) and the attributed save: both by the
    # request's user, both with its request id (django-structlog's, a fresh UUID per request).
    assert {row.history_user_id for row in written} == {world.registrar.pk}
    assert [row.history_change_reason for row in written] == [None, "draft -> submitted"]
    request_ids = {row.history_request_id for row in written}
    assert len(request_ids) == 1 and uuid.UUID(request_ids.pop())
    # Same connection, next write with nobody named: not the registrar's, not that request's.
    raw("UPDATE registry_person SET birth_year = 1960 WHERE id = %s", [world.person.pk])
    latest = rows(Person, id=world.person.pk)[-1]
    assert latest.history_user_id is None and latest.history_request_id == ""


@pytest.mark.django_db(transaction=True)
def test_one_requests_actor_never_reaches_the_next_request_on_the_connection(make_user):
    place = PlaceFactory()
    first = make_user("registrar", places=[place])
    second = make_user("registrar", places=[place])
    person = register_person(first, place, given_names="Rosa").person

    def view(request):  # what ATOMIC_REQUESTS does around a view
        with transaction.atomic():
            Person.objects.filter(pk=person.pk).update(birth_year=request.birth_year)
        from django.http import HttpResponse

        return HttpResponse()

    for user, year in ((first, 1981), (second, 1982), (None, 1983)):
        request = RequestFactory().post("/")
        request.user, request.birth_year = user, year
        HistoryContextMiddleware(view)(request)
        assert stored_setting("frontera.history_user_id") in ("", None)  # ended with the request
        latest = rows(Person, id=person.pk)[-1]
        assert latest.birth_year == year
        assert latest.history_user_id == (user.pk if user else None)
    # Autocommit, outside any request: a lone statement still gets its own attributed row.
    with history_context(second, "tarea"):
        Person.objects.filter(pk=person.pk).update(birth_year=1984)
    assert (
        rows(Person, id=person.pk)[-1].history_user_id,
        stored_setting("frontera.history_reason"),
    ) in (
        (second.pk, ""),
        (second.pk, None),
    )


def stored_setting(name: str):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0]


# --- the special paths -------------------------------------------------------------------------


def test_the_purge_path_copies_no_deleted_personal_data_into_history(world):
    from registry.services import add_document

    document = add_document(
        world.registrar, world.person, kind="passport", number="P99887766", issuing_country="GT"
    )
    pk = document.pk
    with transaction.atomic(), purge_path():
        document.delete()
    assert [row.history_type for row in rows(IdentityDocument, id=pk)] == ["+"]
    # Outside the path the same delete is recorded (with the ciphertext of the number).
    other = add_document(
        world.registrar, world.person, kind="passport", number="P11223344", issuing_country="GT"
    )
    pk = other.pk
    other.delete()
    assert [row.history_type for row in rows(IdentityDocument, id=pk)] == ["+", "-"]


def test_erasure_leaves_no_personal_data_in_history(world):
    from privacy.erasure import erase_person

    person = Person.objects.get(pk=world.person.pk)
    with history_context(world.supervisor, "corrección"):
        Person.objects.filter(pk=person.pk).update(second_surname="Sactic")
    erase_person(world.supervisor, person, reason="derecho de supresión")
    names = {
        (row.given_names, row.first_surname, row.second_surname)
        for row in rows(Person, id=person.pk)
    }
    assert names == {("", "", "")}
    assert rows(Vulnerability, person_id=person.pk) == [] or all(
        row.details == "" for row in rows(Vulnerability, person_id=person.pk)
    )


def test_re_encryption_on_the_rotation_path_writes_no_row_but_a_real_change_does(world):
    table, pk = "registry_person", world.person.pk
    token = stored(table, "given_names", "id = %s", [pk])[0]
    fresh = crypto.reencrypt(token, Person._meta.get_field("given_names").associated_data)
    count = Person.history.filter(id=pk).count()
    with transaction.atomic(), rotation_path():
        raw(f"UPDATE {table} SET given_names = %s WHERE id = %s", [fresh, pk])  # noqa: S608
    assert Person.history.filter(id=pk).count() == count
    with transaction.atomic(), rotation_path():
        raw(f"UPDATE {table} SET given_names = %s, birth_year = 1950 WHERE id = %s", [fresh, pk])  # noqa: S608
    assert Person.history.filter(id=pk).count() == count + 1


@pytest.mark.parametrize(
    "table", ["registry_person", "registry_historicalperson", "transit_historicaltransitevent"]
)
def test_truncate_is_refused_on_tracked_and_history_tables(world, table):
    with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic():
        raw("SET LOCAL frontera.truncate = 'off'")  # the test database's own default is 'on'
        raw(f"TRUNCATE {table} CASCADE")
    assert Person.history.filter(id=world.person.pk).exists()


def test_history_dates_follow_the_application_clock(world):
    import datetime as dt

    import time_machine

    moment = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        Person.objects.filter(pk=world.person.pk).update(birth_year=1966)
    assert rows(Person, id=world.person.pk)[-1].history_date == moment


def test_only_data_changing_statements_are_wrapped():
    """DDL such as CREATE INDEX CONCURRENTLY (non-atomic migrations) must never be put in a
    transaction by the attribution wrapper; reads cost nothing."""
    from privacy.history import attribute_writes

    seen = []

    def execute(sql, params, many, context):
        seen.append(sql)

    for sql in (
        "CREATE INDEX CONCURRENTLY person_x ON registry_person (birth_year)",
        'SELECT "registry_person"."id" FROM "registry_person" FOR UPDATE',
        "UPDATE privacy_outboxmessage SET attempts = 1",  # not a tracked table
    ):
        attribute_writes(execute, sql, None, False, {})  # no connection needed: untouched
    assert len(seen) == 3


def test_migration_0006_rebinds_older_history_rows_and_back(world):
    """History rows written before the triggers were bound to their own table; the migration
    re-encrypts them for the tracked column (inside the rotation path the LG-3 guard allows)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("privacy.migrations.0006_history_shares_column_binding")
    editor = SimpleNamespace(connection=connection)
    old = crypto.encrypt_value("Anterior", "registry_historicalperson.given_names")
    latest = rows(Person, id=world.person.pk)[0]
    Person.objects.filter(pk=world.person.pk).update(birth_year=1975)  # a trigger-written row
    with transaction.atomic():
        raw("SELECT set_config('frontera.rotation', 'on', true)")
        raw(
            "UPDATE registry_historicalperson SET given_names = %s WHERE history_id = %s",
            [old, latest.history_id],
        )
    with pytest.raises(crypto.DecryptionError):
        Person.history.get(history_id=latest.history_id)
    with transaction.atomic():
        migration.forwards(apps, editor)
    assert Person.history.get(history_id=latest.history_id).given_names == "Anterior"
    assert rows(Person, id=world.person.pk)[-1].given_names == "Custodia"  # left as it was
    with transaction.atomic():
        migration.backwards(apps, editor)
    token = stored(
        "registry_historicalperson", "given_names", "history_id = %s", [latest.history_id]
    )[0]
    assert crypto.decrypt_value(token, "registry_historicalperson.given_names") == "Anterior"
