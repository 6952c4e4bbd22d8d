"""Make every change-history table of our apps append-only on PostgreSQL (SECURITY.md LG-3).

django-simple-history writes its ``Historical*`` rows through signals; nothing in the database
stopped anyone from editing or deleting them afterwards. This migration puts on each history
table the same guard the access log has (privacy migrations 0002 and 0004):

* INSERT is free (new history rows);
* DELETE only when the transaction has set ``frontera.purge`` to ``on`` — the logged paths of
  retention and erasure (``privacy.purge_path.purge_path``);
* UPDATE only when the transaction has set ``frontera.rotation`` to ``on``
  (``privacy.rotation.rotation_path``, used by ``manage.py rotate_keys``) **and** nothing but the
  encrypted columns changes (re-encryption): the trigger receives those column names as arguments
  and compares the row without them, so even the rotation path cannot rewrite who did what, when
  or why. Blind indexes of history rows (``*_bidx``) are not re-derived (never looked up);
* everything else raises ``insufficient_privilege``.

The history tables are found by introspection of the migration state: every model of one of our
apps (those under the project directory) whose name starts with ``Historical``. A history table
added later needs a migration that calls ``install(apps, schema_editor)`` again (it is idempotent);
``tests/security/test_history_append_only.py`` fails until it has one. TRUNCATE is not covered
(the test runner's flush needs it; the production role must not be granted it).
SQLite (the zero-install demo) has no such guarantee; the migration is a no-op there.
"""

from pathlib import Path

from django.conf import settings
from django.db import migrations

TRIGGER = "frontera_history_append_only"

FUNCTION = """
CREATE OR REPLACE FUNCTION frontera_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('frontera.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('frontera.rotation', true) = 'on'
       AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def our_app_labels() -> set[str]:
    """Labels of the installed apps whose code lives in this project (not third-party ones)."""
    from django.apps import apps as installed

    base = Path(settings.BASE_DIR).resolve()
    labels = set()
    for config in installed.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and ".venv" not in path.parts:
            labels.add(config.label)
    return labels


def history_models(apps) -> list:
    """Every ``Historical*`` model of our apps in ``apps`` (migration state or the live registry)."""
    labels = our_app_labels()
    return sorted(
        (
            model
            for model in apps.get_models()
            if model._meta.app_label in labels and model.__name__.startswith("Historical")
        ),
        key=lambda model: model._meta.db_table,
    )


def rewritable_columns(model) -> list[str]:
    """The encrypted columns of ``model``: the only ones key rotation may rewrite."""
    from privacy.fields import EncryptedFieldMixin

    return sorted(
        field.column
        for field in model._meta.local_concrete_fields
        if isinstance(field, EncryptedFieldMixin)
    )


def install(apps, schema_editor):
    """(Re)create the guard on every history table; idempotent."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    schema_editor.execute(FUNCTION, params=None)
    for model in history_models(apps):
        table = quote(model._meta.db_table)
        arguments = ", ".join(f"'{column}'" for column in rewritable_columns(model))
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}", params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION frontera_history_append_only({arguments})",
            params=None,
        )


def remove(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    for model in history_models(apps):
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quote(model._meta.db_table)}", params=None
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS frontera_history_append_only()", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0004_accesslog_purge_path"),
        ("registry", "0003_resolution_data"),
        ("transit", "0001_initial"),
        ("accounts", "0003_partner_agreements"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
