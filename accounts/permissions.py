"""The one permission gate every service calls before it writes (roles are data: accounts/roles.py)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


def require_perm(actor, perm: str) -> None:
    """Raise ``PermissionDenied(perm)`` unless ``actor`` is active and holds ``perm``."""
    if not (actor.is_active and actor.has_perm(perm)):
        raise PermissionDenied(perm)
