"""History rows' ciphertexts are bound to the column they copy (SECURITY.md LG-2).

Change history is now written by database triggers (``privacy.history_triggers``), which copy a
row's stored ciphertext as it is; so an encrypted field of a ``Historical*`` model is bound to the
tracked table's ``table.column`` (``privacy.fields.EncryptedFieldMixin.associated_data``) instead
of its own table's. This migration re-encrypts the history rows written before, from the old
binding to the new one (with the active key), inside the key-rotation path that the append-only
trigger allows for the encrypted columns only (privacy migration 0005). Reversible.
"""

from django.db import migrations

from privacy import crypto
from privacy.fields import EncryptedFieldMixin

BATCH = 1000


def _pairs(apps):
    """(history model, tracked table, encrypted columns) of every history table with ciphertext."""
    for model in apps.get_models():
        name = model.__name__
        if not name.startswith("Historical"):
            continue
        try:
            tracked = apps.get_model(model._meta.app_label, name[len("Historical") :])
        except LookupError:
            continue
        columns = [
            field.column
            for field in model._meta.local_concrete_fields
            if isinstance(field, EncryptedFieldMixin)
        ]
        if columns:
            yield model, tracked._meta.db_table, columns


def _rebound(token, old: str, new: str):
    """``token`` re-encrypted from context ``old`` to ``new``; a token already bound to ``new``
    (a rerun, or a row written by the triggers) is left as it is; anything else raises."""
    if token is None:
        return None
    try:
        return crypto.encrypt_bytes(crypto.decrypt_bytes(token, old), new)
    except crypto.DecryptionError:
        crypto.decrypt_bytes(token, new)
        return token


def _rebind(apps, schema_editor, *, forward: bool) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('frontera.rotation', 'on', true)")
        for model, tracked_table, columns in _pairs(apps):
            table = model._meta.db_table
            contexts = {
                column: (f"{table}.{column}", f"{tracked_table}.{column}") for column in columns
            }
            select = ", ".join(quote(column) for column in columns)
            assign = ", ".join(f"{quote(column)} = %s" for column in columns)
            after = 0
            while True:
                cursor.execute(
                    f"SELECT history_id, {select} FROM {quote(table)} "  # noqa: S608  # nosec B608 - quoted names from the models
                    "WHERE history_id > %s ORDER BY history_id LIMIT %s",
                    [after, BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                for history_id, *tokens in rows:
                    values = [
                        _rebound(token, *(contexts[column] if forward else contexts[column][::-1]))
                        for column, token in zip(columns, tokens, strict=True)
                    ]
                    if values != tokens:
                        cursor.execute(
                            f"UPDATE {quote(table)} SET {assign} WHERE history_id = %s",  # noqa: S608  # nosec B608 - quoted names from the models
                            [*values, history_id],
                        )
                after = rows[-1][0]
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('frontera.rotation', 'off', true)")


def forwards(apps, schema_editor):
    _rebind(apps, schema_editor, forward=True)


def backwards(apps, schema_editor):
    _rebind(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0005_history_append_only"),
        ("accounts", "0004_history_request_id"),
        ("registry", "0004_history_request_id"),
        ("transit", "0002_history_request_id"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
