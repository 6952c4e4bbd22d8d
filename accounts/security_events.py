"""Security events (SECURITY.md LG-5): one call records one structured, append-only event.

``record(kind, user=..., request=..., **details)`` writes a ``SecurityEvent`` row and one JSON
log line (``security_event``). What is stored, and why:

* the acting user's id (never a name); at a failed login, a *keyed hash* of the typed username,
  because people type passwords into the username field;
* the client address and request id: this is security telemetry about staff, kept like the access
  log (privacy.AccessLog); no migrant's data is ever passed here;
* ``details``: scalar values only, strings cut to 200 characters and stripped of control
  characters (log-injection safe, LG-4).

Recording never breaks the request: it runs in a savepoint and a database error is logged, not
raised. Under ``ATOMIC_REQUESTS`` an event written inside a view that then raises is rolled back
with the view; the middleware hooks below record after the view, so denials are kept.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import structlog
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from accounts.models import SecurityEvent, SecurityEventKind

logger = structlog.get_logger("frontera.security")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REQUEST_ID = re.compile(r"[^A-Za-z0-9._:-]")
MAX_DETAIL_LENGTH = 200
Kind = SecurityEventKind


def username_hash(username: str) -> str:
    """A keyed, truncated hash: correlates repeated attempts without storing what was typed."""
    return salted_hmac("frontera.security_events.username", username or "").hexdigest()[:16]


def clean_details(details: dict[str, Any]) -> dict[str, Any]:
    """Scalars only; strings shortened and without control characters."""
    cleaned: dict[str, Any] = {}
    for key, value in details.items():
        if value is None or isinstance(value, bool | int | float):
            cleaned[key] = value
        else:
            cleaned[key] = _CONTROL.sub(" ", str(value))[:MAX_DETAIL_LENGTH]
    return cleaned


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR when it is a valid address (behind a proxy, set by the proxy's middleware)."""
    raw = request.META.get("REMOTE_ADDR") if request is not None else None
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def request_id(request: HttpRequest | None) -> str:
    """django-structlog's request id, else the X-Request-ID header, tamed."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    if not value and request is not None:
        value = request.META.get("HTTP_X_REQUEST_ID", "")
    return _REQUEST_ID.sub("", str(value or ""))[:64]


def _acting_user(user, request):
    """The given user, else the request's authenticated user, else None."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def record(kind: str, *, user=None, request: HttpRequest | None = None, **details) -> SecurityEvent | None:
    """Write one security event and its log line; return the row (None if it could not be written)."""
    if kind not in Kind.values:
        raise ValueError(f"unknown security event kind: {kind}")
    typed_username = details.pop("username", None)
    event = SecurityEvent(
        kind=kind,
        user=_acting_user(user, request),
        username_hash=username_hash(typed_username) if typed_username else "",
        ip=client_ip(request),
        request_id=request_id(request),
        path=request.path[:300] if request is not None else "",
        details=clean_details(details),
    )
    try:
        with transaction.atomic():
            event.save()
    except DatabaseError as exc:
        logger.error("security_event_not_recorded", kind=kind, error=exc.__class__.__name__)
        return None
    logger.warning("security_event", kind=str(kind), user_id=str(event.user_id or ""), details=event.details)
    return event


VALIDATION_STATUSES = frozenset({400, 413, 415, 422})


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class DeniedResponseMiddleware:
    """Record denials and refusals as security events (LG-5), after the view has answered.

    * every **403** (permission, CSRF, MFA-required API);
    * a **404 to a signed-in user**: out-of-scope objects answer 404 (never 403, so existence is
      not revealed), which makes a burst of 404s the trace of someone probing ids;
    * **400, 413, 415, 422** answers (bad input refused: API problem details, oversized bodies).
      Only the status, method and path are kept, never the input.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status == 403:
            record(Kind.PERMISSION_DENIED, request=request, method=request.method, status=403)
        elif status == 404 and _signed_in(request):
            record(Kind.NOT_FOUND, request=request, method=request.method, status=404)
        elif status in VALIDATION_STATUSES:
            record(Kind.VALIDATION_FAILED, request=request, method=request.method, status=status)
        return response
