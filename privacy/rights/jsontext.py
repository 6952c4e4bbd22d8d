"""Portable "this JSON column mentions that value" filters.

PostgreSQL answers JSON containment with an index (``@>``); SQLite, the embedded default, has
no JSON ``contains``, so there the JSON text is searched for the quoted value. Values are UUIDs
and pseudonyms (closed alphabets), so a text match on the quoted value is exact.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast


def list_contains(queryset: QuerySet, field: str, value: str) -> QuerySet:
    """Rows whose JSON list ``field`` holds the string ``value``."""
    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(**{f"{field}__contains": [value]})
    return queryset.alias(_json_text=Cast(field, TextField())).filter(
        _json_text__contains=f'"{value}"'
    )


def mentions_any(queryset: QuerySet, field: str, values: Iterable[str]) -> QuerySet:
    """Rows whose JSON ``field`` (any shape) mentions one of ``values`` as a string."""
    values = [v for v in values if v]
    if not values:
        return queryset.none()
    condition = Q()
    for value in values:
        condition |= Q(_json_text__contains=f'"{value}"')
    return queryset.alias(_json_text=Cast(field, TextField())).filter(condition)
