"""Change history written by the database itself (SECURITY.md LG-2), on PostgreSQL.

Every table of a model with ``HistoricalRecords`` gets an ``AFTER INSERT OR UPDATE OR DELETE``
row trigger that inserts the row's stored (already encrypted) values into the model's
django-simple-history table: ``'+'``, ``'~'`` or ``'-'``, like simple-history's own writer, which
is switched off on PostgreSQL (``SIMPLE_HISTORY_ENABLED``). So ``save()``, ``QuerySet.update()``,
``bulk_create()``, ``bulk_update()``, deletes and raw SQL — from the application, a migration or
psql — all leave history, and every reader of the ``Historical*`` models keeps working.

Attribution comes from transaction-local settings that ``privacy.history`` sets before each
write (``frontera.history_user_id``, ``_reason``, ``_request_id``, ``_date``). A write with none
(psql, a migration, a task without ``history_context``) still gets its row: user NULL, reason
``unattributed <operation>``, date ``clock_timestamp()``.

Two logged paths write no row:

* ``DELETE`` inside ``purge_path()`` (``frontera.purge``): retention and erasure remove personal
  data; copying it into history would defeat them. Their UPDATEs (blanking) are recorded — the row
  then holds the blanked values, and erasure deletes it with the rest of the person's history;
* ``UPDATE`` inside ``rotation_path()`` (``frontera.rotation``) that changes nothing but encrypted
  and blind-index columns: re-encryption, the same values under a new key.

``TRUNCATE`` of a tracked or history table is refused (statement trigger) unless the session set
``frontera.truncate`` to ``on``, which only the throwaway test databases do (the test runner
empties tables between transactional tests).

The functions and triggers are (re)built from the **current** models after every ``migrate``
(``install``, connected to ``post_migrate`` in ``privacy.apps``): a new field or a new model with
history is covered by the next migrate. ``tests/security/test_history_triggers.py`` checks that
every model with history has its trigger and that each trigger's column list is the history
table's. SQLite (the zero-install demo) has no triggers: simple-history's Python writer records
``save()``/``delete()`` there, not bulk or raw writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

from privacy import history_guard

TRIGGER = "frontera_history_write"
TRUNCATE_TRIGGER = "frontera_no_truncate"
HISTORY_COLUMNS = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
    "history_request_id",
}

TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION frontera_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('frontera.truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'TRUNCATE of % refused: history must stay complete', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    source record;
    kind text;
    actor text := NULLIF(current_setting('frontera.history_user_id', true), '');
    reason text := NULLIF(current_setting('frontera.history_reason', true), '');
    stamp text := NULLIF(current_setting('frontera.history_date', true), '');
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('frontera.purge', true) = 'on' THEN
            RETURN NULL;  -- retention / erasure: the personal data must not survive in history
        END IF;
        source := OLD;
        kind := '-';
    ELSIF TG_OP = 'UPDATE' THEN
        IF current_setting('frontera.rotation', true) = 'on'
           AND (to_jsonb(NEW) - {rewritable}::text[]) = (to_jsonb(OLD) - {rewritable}::text[]) THEN
            RETURN NULL;  -- re-encryption: the same values under a new key
        END IF;
        source := NEW;
        kind := '~';
    ELSE
        source := NEW;
        kind := '+';
    END IF;
    IF reason IS NULL AND actor IS NULL THEN
        reason := 'unattributed ' || lower(TG_OP);
    END IF;
    INSERT INTO {history_table} ({columns}, history_type, history_date, history_user_id,
                                 history_change_reason, history_request_id)
    VALUES ({values}, kind, COALESCE(stamp::timestamptz, clock_timestamp()),
            actor::{user_type}, left(reason, 100),
            left(COALESCE(current_setting('frontera.history_request_id', true), ''), 64));
    RETURN NULL;
END;
$$;
"""


@dataclass(frozen=True)
class TrackedTable:
    """A model with history: its table, its history table and what the trigger copies."""

    model: type[models.Model]
    history_model: type[models.Model]

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def history_table(self) -> str:
        return self.history_model._meta.db_table

    @property
    def function(self) -> str:
        return f"frontera_history_{self.table}"[:63]

    @property
    def columns(self) -> list[str]:
        """The history table's copies of the tracked columns (excluded fields are not there)."""
        return [
            field.column
            for field in self.history_model._meta.concrete_fields
            if field.column not in HISTORY_COLUMNS
        ]

    @property
    def rewritable(self) -> list[str]:
        """Columns key rotation may rewrite: encrypted values and blind indexes."""
        from privacy.fields import EncryptedFieldMixin

        return sorted(
            field.column
            for field in self.model._meta.concrete_fields
            if isinstance(field, EncryptedFieldMixin) or field.column.endswith("_bidx")
        )


def tracked_tables() -> list[TrackedTable]:
    """Every installed model with ``HistoricalRecords``, by table name."""
    found = []
    for model in apps.get_models():
        history = getattr(model, "history", None)
        history_model = getattr(history, "model", None)
        if history_model is not None and history_model is not model:
            found.append(TrackedTable(model, history_model))
    return sorted(found, key=lambda tracked: tracked.table)


def function_sql(tracked: TrackedTable, connection) -> str:
    quote = connection.ops.quote_name
    user_field = tracked.history_model._meta.get_field("history_user")
    rewritable = "ARRAY[" + ", ".join(f"'{column}'" for column in tracked.rewritable) + "]"
    return FUNCTION.format(
        function=tracked.function,
        history_table=quote(tracked.history_table),
        columns=", ".join(quote(column) for column in tracked.columns),
        values=", ".join(f"source.{quote(column)}" for column in tracked.columns),
        rewritable=rewritable,
        user_type=user_field.target_field.db_type(connection),
    )


def install(connection) -> list[str]:
    """(Re)create the history triggers and the TRUNCATE guards; idempotent. Returns the tables."""
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    done = []
    with connection.cursor() as cursor:
        cursor.execute(TRUNCATE_FUNCTION)
        for tracked in tracked_tables():
            cursor.execute(function_sql(tracked, connection))
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE "
                f"ON {quote(tracked.table)} FOR EACH ROW EXECUTE FUNCTION {tracked.function}()"
            )
            for table in (tracked.table, tracked.history_table):
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE "
                    f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION frontera_no_truncate()"
                )
            done.append(tracked.table)
    # Every history table of our apps is append-only (LG-3), new ones included.
    history_guard.install_guard(connection, history_guard.history_models(apps))
    return done


def install_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver: the triggers follow the models after every migrate."""
    from django.db import connections

    install(connections[using])
