"""``Idempotency-Key`` for API writes (IETF draft-ietf-httpapi-idempotency-key-header-06, RL-3).

* missing or empty key, or longer than 255 characters → 400;
* the same agency, key and body → the stored response (same status and body), no new effect;
* the same key with a different body → 422;
* the same key while the first request is still running → 409 (a transaction-scoped PostgreSQL
  advisory lock on the agency + key; elsewhere the unique constraint decides).

Keys are scoped per agency and stored hashed; ``fingerprint`` hashes the method, path and the
canonical JSON body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

from api.exceptions import Conflict, Unprocessable
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def key_from(request) -> str:
    """The request's key, validated (400 when missing, empty or too long)."""
    key = request.headers.get(HEADER, "")
    if not key.strip():
        raise exceptions.ValidationError({HEADER: [_("This header is required.")]})
    if len(key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError({HEADER: [_("At most %(n)d characters.") % {"n": MAX_KEY_LENGTH}]})
    return key


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return _hash(request.method, request.path, body)


def _lock(agency_id, key_hash: str) -> None:
    if connection.vendor != "postgresql":
        return
    # Two stable 31-bit ints (never Python's per-process hash()): agency and key.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", [int(_hash(str(agency_id))[:7], 16), int(key_hash[:7], 16)]
        )
        if not cursor.fetchone()[0]:
            raise Conflict()


def derived_key(agency_id, key: str) -> str:
    """A per-agency key for the domain service's own idempotency column (64 safe characters)."""
    return "api:" + _hash(str(agency_id), key)[:60]


def run_once(request, agency_id, produce: Callable[[], Response]) -> Response:
    """Produce the response once per (agency, key); replay or refuse repeats (see module doc)."""
    key = key_from(request)
    key_hash = _hash(str(agency_id), key)
    print_ = fingerprint(request)
    _lock(agency_id, key_hash)
    stored = IdempotencyRecord.objects.filter(agency_id=agency_id, key_hash=key_hash).first()
    if stored is not None:
        if stored.fingerprint != print_:
            raise Unprocessable(_("This Idempotency-Key was already used with a different request."))
        return Response(stored.body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})
    response = produce()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                agency_id=agency_id, key_hash=key_hash, fingerprint=print_, status_code=response.status_code,
                body=response.data,
            )
    except IntegrityError as exc:  # another request with the key committed first
        raise Conflict() from exc
    return response
