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
added later gets the guard after its ``migrate`` (``privacy.history_guard``, through
``privacy.history_triggers.install`` on ``post_migrate``); ``tests/security/test_history_append_only.py``
fails if one has none. TRUNCATE is refused separately (``privacy.history_triggers``, session 3).
SQLite (the zero-install demo) has no such guarantee; the migration is a no-op there.
"""

from django.db import migrations

from privacy.history_guard import FUNCTION, TRIGGER, history_models, our_app_labels, rewritable_columns  # noqa: F401


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
