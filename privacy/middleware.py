"""Turns privacy failures into a 503 that shows no data (fail closed).

A ``DecryptionError`` (wrong key, tampering, legacy plaintext) or an ``AccessLogError`` (the
read could not be logged) must never become a page with ciphertext, a partial list or a
traceback. With ``ATOMIC_REQUESTS`` the request's transaction has already been rolled back when
``process_exception`` runs.
"""

from __future__ import annotations

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from privacy.errors import FailClosedError

logger = structlog.get_logger(__name__)
API_PREFIX = "/api/"


def fail_closed_response(request: HttpRequest) -> HttpResponse:
    """The generic 503: RFC 9457 problem JSON under /api/, a plain page elsewhere."""
    title = _("Service temporarily unavailable")
    detail = _("Personal data cannot be shown safely right now. Please try again later.")
    if request.path.startswith(API_PREFIX):
        body = {"type": "about:blank", "title": str(title), "status": 503, "detail": str(detail)}
        response: HttpResponse = JsonResponse(
            body, status=503, content_type="application/problem+json"
        )
    else:
        html = render_to_string(
            "privacy/service_unavailable.html", {"title": title, "detail": detail}
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response


class FailClosedMiddleware:
    """Maps ``privacy.errors.FailClosedError`` (and subclasses) to a data-free 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, FailClosedError):
            return None
        # The class name only: messages could name a key id, never data, but keep logs minimal.
        logger.error("privacy.fail_closed", error=type(exception).__name__, path=request.path)
        return fail_closed_response(request)


class HistoryContextMiddleware:
    """Writes made while handling a request are attributed to its user (SECURITY.md LG-2).

    The user is looked up at write time; the request id is django-structlog's. Nothing is sent to
    the database here: ``privacy.history`` sets the values transaction-locally right before each
    write, so they end with the request's transaction and never reach the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from privacy.history import history_context, request_actor

        with history_context(request_actor(request)):
            return self.get_response(request)
