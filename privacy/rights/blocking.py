"""Who is blocked: a cancellation request puts the person out of sight of everyone but the
data-protection role until the erasure (LGPDPPSO *bloqueo*; SECURITY.md DP-3).

``Person.objects.visible_to`` and ``visible_to_agreement`` (registry/models.py) must exclude
``blocked_person_ids()``; that one-line change belongs to the registry (see docs/privacy.md).
"""

from __future__ import annotations

from django.db.models import QuerySet

from privacy.models import RightsRequest


def blocked_person_ids() -> QuerySet:
    """A subquery of the ids of blocked people (for ``.exclude(pk__in=...)``)."""
    return RightsRequest.objects.blocking().values("person_id")


def is_blocked(person) -> bool:
    return RightsRequest.objects.blocking().filter(person_id=person.pk).exists()


def exclude_blocked(queryset: QuerySet, user=None) -> QuerySet:
    """People minus the blocked ones, unless ``user`` has the data-protection role."""
    from accounts.roles import DATA_PROTECTION

    if (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.has_role(DATA_PROTECTION)
    ):
        return queryset
    return queryset.exclude(pk__in=blocked_person_ids())
