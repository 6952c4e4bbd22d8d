"""The one way to record a read of identified personal data (SECURITY.md LG-1).

``log_access`` inserts an ``AccessLog`` row inside the caller's transaction. If the row cannot be
written the read must not happen, so it raises ``AccessLogError``, which
``FailClosedMiddleware`` turns into a 503 with no data. Under ``ATOMIC_REQUESTS`` the row commits
or rolls back together with the rest of the request.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from django.db import DatabaseError, transaction

from privacy.errors import FailClosedError
from privacy.models import AccessAction, AccessLog

_REQUEST_ID = re.compile(r"[^A-Za-z0-9._:-]")
logger = structlog.get_logger(__name__)


class AccessLogError(FailClosedError):
    """The access-log row could not be written; the read it guards must fail."""


def _uuid_strings(object_ids: Iterable[Any]) -> list[str]:
    """Canonical UUID strings; anything else is a programming error (and may be PII)."""
    try:
        return [
            str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
            for value in object_ids
        ]
    except (TypeError, ValueError, AttributeError):
        raise ValueError("log_access object_ids must be UUIDs") from None


def _request_id(request) -> str:
    """django-structlog's request id for this request, else the X-Request-ID header."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    if not value and request is not None:
        value = request.META.get("HTTP_X_REQUEST_ID", "")
    return _REQUEST_ID.sub("", str(value or ""))[:64]  # header-controlled: keep it tame


def _ip(request) -> str | None:
    raw = request.META.get("REMOTE_ADDR") if request is not None else None
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def _agreement_ref(agreement: Any) -> str:
    if agreement is None:
        return ""
    if isinstance(agreement, str):
        return agreement[:64]
    return str(getattr(agreement, "reference", None) or agreement.pk)[:64]


def log_access(
    *,
    user: Any,
    action: str,
    object_type: str,
    object_ids: Iterable[Any],
    purpose: str = "",
    request: Any = None,
    agreement: Any = None,
) -> AccessLog:
    """Write one access-log row for a read of ``object_ids`` by ``user``; fail closed.

    ``object_ids`` are UUIDs of the records read (empty for aggregates); ``agreement`` is a
    ``DataSharingAgreement`` (or its reference) when a partner reads under one.
    """
    if action not in AccessAction.values:
        raise ValueError(f"unknown access action {action!r}")
    ids = _uuid_strings(object_ids)
    actor = user if getattr(user, "is_authenticated", False) else None
    row = AccessLog(
        user_id=getattr(actor, "pk", None),
        agency_id=getattr(actor, "agency_id", None),
        agreement_ref=_agreement_ref(agreement),
        purpose=(purpose or "")[:120],
        action=action,
        object_type=object_type,
        object_ids=ids,
        object_count=len(ids),
        request_id=_request_id(request),
        ip=_ip(request),
        path=(request.path[:500] if request is not None else ""),
    )
    try:
        with (
            transaction.atomic()
        ):  # a savepoint: the caller sees AccessLogError, not a broken transaction
            row.save(force_insert=True)
    except DatabaseError as exc:
        logger.error("access_log.write_failed", error=type(exc).__name__, object_type=object_type)
        raise AccessLogError("the access log could not be written") from exc
    return row
