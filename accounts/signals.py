"""Keep the role groups in step with accounts/roles.py after every migrate."""

from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def sync_roles(sender, **kwargs) -> None:
    if getattr(sender, "name", None) != "accounts":
        return
    from accounts.roles import sync_role_groups

    sync_role_groups()
