"""Saving a model with its history row attributed (django-simple-history): who and why.

History tables are append-only in PostgreSQL (privacy migration 0005); every service write of a
model with history goes through ``save_with_history`` so the row names the actor and the reason.
"""

from __future__ import annotations


def save_with_history(obj, actor, reason: str, **kwargs) -> None:
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(**kwargs)
