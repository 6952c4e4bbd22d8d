"""Change-history tables are append-only in the database (SECURITY.md LG-3, privacy migration 0005).

Every ``Historical*`` table of our apps carries the trigger; UPDATE and DELETE are refused for the
application role whatever the route (ORM or raw SQL); the retention/erasure purge path may delete
(and is logged by its callers: ``RetentionRun``, ``ErasureRecord``), and the key-rotation path may
rewrite the encrypted columns and nothing else. The guard is reinstalled after every ``migrate``
(``privacy.history_guard`` through ``history_triggers.install``), so a new history table has it;
one without it makes ``test_every_history_table_has_the_append_only_trigger`` fail.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from privacy import crypto
from privacy.purge_path import purge_path
from privacy.rotation import is_history_model, rotation_path
from registry.models import Person
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

guard = importlib.import_module("privacy.migrations.0005_history_append_only")


def triggers() -> dict[str, list[str]]:
    """``{table: [trigger arguments]}`` for every table carrying the history guard."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgnargs, t.tgargs, t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s",
            [guard.TRIGGER],
        )
        found = {}
        for table, nargs, raw, enabled in cursor.fetchall():
            assert enabled == "O", f"{table}: trigger disabled"
            args = bytes(raw).split(b"\x00")[:nargs]
            found[table] = sorted(arg.decode() for arg in args)
        return found


def unguarded(tables: set[str], installed: dict) -> list[str]:
    return sorted(tables - set(installed))


def test_a_history_table_without_the_trigger_is_noticed():
    # DDL is transactional in PostgreSQL: the test's transaction puts the trigger back.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {guard.TRIGGER} ON registry_historicalvulnerability")
    tables = {model._meta.db_table for model in guard.history_models(apps)}
    assert unguarded(tables, triggers()) == ["registry_historicalvulnerability"]


@pytest.fixture
def person_history(make_user):
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    person = register_person(registrar, place, given_names="Custodia").person
    row = Person.history.filter(id=person.pk).order_by("history_id").first()
    assert row is not None
    assert row.history_user_id == registrar.pk
    return person, row


def test_every_history_table_has_the_append_only_trigger():
    assert connection.vendor == "postgresql"
    models = guard.history_models(apps)
    tables = {model._meta.db_table for model in models}
    # The introspection finds the history of our apps, and only history.
    assert "registry_historicalperson" in tables
    assert len(models) >= 10
    assert all(is_history_model(model) for model in models)
    # Every simple-history model of our apps is covered (nothing escapes the name rule).
    labels = guard.our_app_labels()
    simple_history = {
        m._meta.db_table
        for m in apps.get_models()
        if is_history_model(m) and m._meta.app_label in labels
    }
    assert simple_history == tables
    installed = triggers()
    missing = unguarded(tables, installed)
    assert missing == [], f"history tables without the append-only trigger: {missing}"
    # The rotation exemption names exactly the encrypted columns of each table.
    for model in models:
        assert installed[model._meta.db_table] == guard.rewritable_columns(model), model
    assert "given_names" in installed["registry_historicalperson"]  # ciphertext
    document_columns = set(installed["registry_historicalidentitydocument"])
    assert "number" in document_columns  # ciphertext: re-encrypted by rotate_keys
    assert not {"number_bidx", "number_search_bidx"} & document_columns  # never rewritten
    assert "history_user_id" not in installed["registry_historicalperson"]


def test_history_rows_refuse_update_and_delete(person_history):
    person, row = person_history
    table = Person.history.model._meta.db_table
    attempts = [
        lambda: Person.history.filter(history_id=row.history_id).update(history_change_reason="x"),
        lambda: Person.history.filter(history_id=row.history_id).delete(),
        lambda: connection.cursor().execute(
            f"UPDATE {table} SET history_user_id = NULL WHERE history_id = %s",  # noqa: S608
            [row.history_id],
        ),
        lambda: connection.cursor().execute(f"DELETE FROM {table}"),  # noqa: S608
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert Person.history.filter(id=person.pk).count() >= 1
    assert Person.history.get(history_id=row.history_id).history_user_id == row.history_user_id


def test_purge_path_may_delete_but_never_update(person_history):
    person, row = person_history
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), purge_path():
        Person.history.filter(history_id=row.history_id).update(history_change_reason="x")
    with transaction.atomic(), purge_path():
        assert Person.history.filter(history_id=row.history_id).delete()[0] == 1
    assert not Person.history.filter(history_id=row.history_id).exists()
    # Outside the path again (same connection, next transaction): refused.
    other = Person.history.filter(id=person.pk).first()
    if other is not None:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            Person.history.filter(history_id=other.history_id).delete()


def test_rotation_path_rewrites_only_the_encrypted_columns(person_history):
    _person, row = person_history
    table = Person.history.model._meta.db_table
    token = crypto.reencrypt(
        connection_value(table, "given_names", row.history_id),
        Person.history.model._meta.get_field("given_names").associated_data,
    )
    with transaction.atomic(), rotation_path(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET given_names = %s WHERE history_id = %s",  # noqa: S608
            [token, row.history_id],
        )
    assert connection_value(table, "given_names", row.history_id) == token
    assert Person.history.get(history_id=row.history_id).given_names == "Custodia"
    # The same path cannot touch who, when or why — nor delete.
    for sql in (
        f"UPDATE {table} SET history_change_reason = 'borrado' WHERE history_id = %s",  # noqa: S608
        f"UPDATE {table} SET given_names = %s, history_user_id = NULL WHERE history_id = %s",  # noqa: S608
        f"DELETE FROM {table} WHERE history_id = %s",  # noqa: S608
    ):
        params = [token, row.history_id] if sql.count("%s") == 2 else [row.history_id]
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            rotation_path(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    # Without the path, even a pure re-encryption is refused.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {table} SET given_names = %s WHERE history_id = %s",  # noqa: S608
            [token, row.history_id],
        )


def connection_value(table: str, column: str, history_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE history_id = %s",  # noqa: S608
            [history_id],
        )
        return cursor.fetchone()[0]


def test_the_admin_never_offers_to_delete_a_user(make_user):
    """Users are deactivated, not deleted: deleting one would rewrite append-only history rows."""
    from django.contrib import admin
    from django.test import RequestFactory

    from accounts.models import User

    superuser = make_user("admin")
    request = RequestFactory().get("/")
    request.user = superuser
    model_admin = admin.site._registry[User]
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, superuser)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_a_new_history_table_is_guarded_by_the_next_migrate_without_a_migration():
    """The guard follows the models after every ``migrate`` (``post_migrate`` runs
    ``history_triggers.install``): a history table that lost it, or a new one, has it again."""
    from django.core.management import call_command

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {guard.TRIGGER} ON registry_historicalvulnerability")
    assert "registry_historicalvulnerability" not in triggers()
    call_command("migrate", verbosity=0)
    assert "registry_historicalvulnerability" in triggers()
    tables = {model._meta.db_table for model in guard.history_models(apps)}
    assert unguarded(tables, triggers()) == []
