"""The append-only guard of the change-history tables (SECURITY.md LG-3): its trigger function
and where it goes. Installed by privacy migration 0005 for the tables that existed then, and again
after every ``migrate`` by ``privacy.history_triggers.install`` (``post_migrate``), so a history
table added later is guarded without a migration of its own.
"""

from pathlib import Path

from django.conf import settings

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


def install_guard(connection, models_) -> list[str]:
    """(Re)create the guard on the history tables of ``models_``; idempotent. Returns the tables."""
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    done = []
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        for model in models_:
            arguments = ", ".join(f"'{column}'" for column in rewritable_columns(model))
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {quote(model._meta.db_table)} "
                f"FOR EACH ROW EXECUTE FUNCTION frontera_history_append_only({arguments})"
            )
            done.append(model._meta.db_table)
    return done
