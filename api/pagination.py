"""Cursor pagination with a capped page size (SECURITY.md bad input 20; API4).

``?page_size=`` is honoured up to ``API_MAX_PAGE_SIZE`` (200); larger values are capped and
invalid ones fall back to the default. Offsets, page numbers and ``?limit=`` do not exist here.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import CursorPagination


class CappedCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    ordering = ("-modified_at", "-id")

    @property
    def max_page_size(self) -> int:  # read at request time so tests can change the setting
        return settings.API_MAX_PAGE_SIZE

    def get_ordering(self, request, queryset, view):
        return getattr(view, "cursor_ordering", self.ordering)
