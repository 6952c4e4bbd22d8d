"""Dashboard cache invalidation: recording an event or a registration bumps a version number
that is part of every dashboard cache key, so cached aggregates are never stale."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

DASHBOARD_VERSION_KEY = "reports:dashboard:version"


def dashboard_version() -> int:
    return int(cache.get_or_set(DASHBOARD_VERSION_KEY, 1, timeout=None))


def bump_dashboard_version(**kwargs) -> None:
    """post_save receiver: after the commit, move the dashboard to a new cache generation."""

    def _bump() -> None:
        try:
            cache.incr(DASHBOARD_VERSION_KEY)
        except ValueError:  # the key was evicted: start a new generation
            cache.set(DASHBOARD_VERSION_KEY, 2, timeout=None)

    transaction.on_commit(_bump)
