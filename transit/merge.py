"""Transit's part in a registry merge: a person's transit events and permits follow them to the
survivor (and back on an unmerge). Registered from ``TransitConfig.ready`` so that the registry,
which sits below transit, never imports transit."""

from __future__ import annotations


def register_merge_participants() -> None:
    from registry.resolution import merge
    from transit.models import Permit, TransitEvent

    merge.register(TransitEvent)
    merge.register(Permit)
