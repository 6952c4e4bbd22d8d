"""Make privacy_accesslog append-only on PostgreSQL (SECURITY.md LG-3).

A trigger refuses UPDATE and DELETE for every role, the application's included. TRUNCATE is not
covered: the test runner's flush needs it, and the production role must not be granted it.
SQLite (the zero-install demo) has no such guarantee; the migration is a no-op there.
A GIN index on object_ids answers "who read this person?" (subject access requests).
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION privacy_accesslog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'privacy_accesslog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER privacy_accesslog_append_only
    BEFORE UPDATE OR DELETE ON privacy_accesslog
    FOR EACH ROW EXECUTE FUNCTION privacy_accesslog_append_only();
CREATE INDEX accesslog_object_ids_gin ON privacy_accesslog USING gin (object_ids jsonb_path_ops);
"""

REMOVE = """
DROP INDEX IF EXISTS accesslog_object_ids_gin;
DROP TRIGGER IF EXISTS privacy_accesslog_append_only ON privacy_accesslog;
DROP FUNCTION IF EXISTS privacy_accesslog_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(INSTALL), _on_postgresql(REMOVE), elidable=False),
    ]
