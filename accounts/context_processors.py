"""Template context every page gets: demo and MFA flags, the user's roles and current posts."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import PostAssignment


def _roles(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _posts(user) -> list:
    assignments = PostAssignment.objects.current().filter(user=user).select_related("place")
    return [assignment.place for assignment in assignments]


def frontera(request: HttpRequest) -> dict:
    """Flags for the base template; roles and posts are queried only if a template uses them."""
    mfa_required = bool(getattr(settings, "MFA_REQUIRED", True))
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        "DEMO_MODE": bool(getattr(settings, "DEMO_MODE", False)),
        "MFA_REQUIRED": mfa_required,
        "MFA_OFF_BANNER": not mfa_required,
        "user_roles": SimpleLazyObject(lambda: _roles(user)) if signed_in else [],
        "user_posts": SimpleLazyObject(lambda: _posts(user)) if signed_in else [],
    }
