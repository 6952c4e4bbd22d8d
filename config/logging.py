"""Log processors. Pure functions: imported by the settings module before Django is set up."""

from __future__ import annotations

from typing import Any

# Keys under which django-structlog and Django put the request line or path.
_REQUEST_KEYS = ("request", "path", "request_path")


def strip_query_strings(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Drop query strings from logged request lines: a search for a person's name (``?q=María``)
    must not end up in the application log (LG-4)."""
    for key in _REQUEST_KEYS:
        value = event_dict.get(key)
        if isinstance(value, str) and "?" in value:
            event_dict[key] = value.split("?", 1)[0] + "?…"
    return event_dict
