"""Transit's part in a registry merge: a person's transit events and permits follow them to the
survivor (and back on an unmerge). Registered from ``TransitConfig.ready`` so that the registry,
which sits below transit, never imports transit."""

from __future__ import annotations


def register_merge_participants() -> None:
    from registry.resolution import merge
    from transit.models import Permit, TransitEvent

    merge.register(TransitEvent)
    merge.register(Permit)
    merge.register_check(cards_of_both)


def cards_of_both(a, b) -> list[str]:
    """A merge would leave the survivor with two valid cards of one kind (one per person and
    kind is the rule when cards are issued): the supervisor is told which to look at."""
    from django.db.models import Count
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from transit.models import Permit, PermitStatus
    from transit.permit_rules import PermitKind

    both = (Permit.objects.filter(person__in=[a, b], status=PermitStatus.ACTIVE, valid_until__gte=timezone.localdate())
            .values("kind").annotate(holders=Count("person", distinct=True)).filter(holders=2).order_by("kind"))
    return [
        _("Both records hold a valid %(kind)s: after the merge the survivor holds two. Keep the one the person "
          "carries and revoke the other.") % {"kind": PermitKind(row["kind"]).label}
        for row in both
    ]
