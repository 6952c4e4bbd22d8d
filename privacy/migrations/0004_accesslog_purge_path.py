"""Let the retention purge, and nothing else, delete old access-log rows (SECURITY.md LG-3).

The append-only trigger of migration 0002 now lets a DELETE through when the transaction has
set ``frontera.purge`` to ``on`` (``privacy.purge_path.purge_path``); UPDATE is still refused
always. Every purge is recorded in ``RetentionRun``. SQLite: no trigger, nothing to do.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION privacy_accesslog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('frontera.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'privacy_accesslog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

REMOVE = """
CREATE OR REPLACE FUNCTION privacy_accesslog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'privacy_accesslog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_rights_retention")]

    operations = [
        migrations.RunPython(_on_postgresql(INSTALL), _on_postgresql(REMOVE), elidable=False),
    ]
