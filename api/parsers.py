"""A strict JSON parser (SECURITY.md bad inputs 2, 15-17, 21).

Refuses, with a 400 problem detail: bodies nested deeper than ``API_JSON_MAX_DEPTH``, duplicate
keys (parameter pollution: the standard library silently keeps the last one), NUL characters
anywhere (PostgreSQL cannot store them), ``NaN``/``Infinity``, non-UTF-8 input and invalid JSON.
Bodies over ``API_JSON_MAX_BYTES`` get 413; a charset other than UTF-8 gets 415.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise exceptions.ParseError(_("NaN and Infinity are not valid JSON numbers."))


def _check_tree(value: Any, path: str, depth: int) -> None:
    """Depth and NUL checks over the parsed value; errors name the field path."""
    if depth > settings.API_JSON_MAX_DEPTH:
        raise exceptions.ParseError(_("The JSON body is nested too deeply."))
    if isinstance(value, str):
        if "\x00" in value:
            raise exceptions.ValidationError({path or "non_field_errors": [_("NUL characters are not allowed.")]})
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if "\x00" in key:
                raise exceptions.ValidationError({"non_field_errors": [_("NUL characters are not allowed.")]})
            _check_tree(item, child, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_tree(item, f"{path}.{index}" if path else str(index), depth + 1)


def _read_limited(stream, limit: int) -> bytes:
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise PayloadTooLarge()
    return raw


class StrictJSONParser(JSONParser):
    """JSON only, UTF-8 only, bounded in size and depth, no duplicate keys, no NUL, no NaN."""

    def parse(self, stream, media_type=None, parser_context=None):
        params = dict(p.strip().split("=", 1) for p in (media_type or "").split(";")[1:] if "=" in p)
        if params.get("charset", "utf-8").strip('"').lower() not in ("utf-8", "utf8"):
            raise exceptions.UnsupportedMediaType(media_type)
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        limit = settings.API_JSON_MAX_BYTES
        if declared > limit:
            raise PayloadTooLarge()
        raw = _read_limited(stream, limit)
        return self._decode(raw)

    @staticmethod
    def _decode(raw: bytes) -> Any:
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
        except _DuplicateKey as exc:
            raise exceptions.ValidationError({exc.key: [_("Duplicate key in the JSON body.")]}) from None
        except RecursionError:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from None
        except (UnicodeDecodeError, ValueError):
            raise exceptions.ParseError(_("The body is not valid UTF-8 JSON.")) from None
        _check_tree(data, "", 1)
        return data
