"""Keep the role groups in step with accounts/roles.py after every migrate.

The sync runs once, after the *last* app's ``post_migrate``: by then every app's permissions
exist (apps above accounts, such as privacy, create theirs after accounts' own signal).
"""

from django.apps import apps
from django.db.models.signals import post_migrate
from django.dispatch import receiver


def _last_migrated_app():
    """The last app ``emit_post_migrate_signal`` sends for (it skips apps without models)."""
    configs = [config for config in apps.get_app_configs() if config.models_module is not None]
    return configs[-1] if configs else None


@receiver(post_migrate)
def sync_roles(sender, **kwargs) -> None:
    """Create the role groups and set their permissions once all permissions exist."""
    if sender is not _last_migrated_app():
        return
    from accounts.roles import sync_role_groups

    sync_role_groups()
