"""Response headers Django's SecurityMiddleware does not set (SECURITY.md CF-1).

* ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY`` on every response.
* ``Cache-Control: no-store`` on every response to a signed-in user and on every ``/api/``
  response: they may carry personal data, which must not stay in a shared tablet's browser cache
  or in a proxy. Static files (served by WhiteNoise before authentication) keep their caching.

Sits right after SecurityMiddleware, so it also covers answers produced by the middleware further
in (lockout, MFA step-up, session expiry, fail-closed 503).

``server_error`` is the project's ``handler500`` (SECURITY.md RL-5): when the database cannot be
reached (connection refused, server restarting, connection killed) the answer is a clean **503**
with ``Retry-After`` — problem JSON under ``/api/``, the generic page elsewhere — instead of a
500. Nothing is cached or kept: Django opens a new connection on the next request
(``CONN_HEALTH_CHECKS``), so the app recovers by itself when PostgreSQL is back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

API_PREFIX = "/api/"
NO_STORE = "no-store, private"
RETRY_AFTER_SECONDS = "30"
DATABASE_DOWN = (OperationalError, InterfaceError)

logger = structlog.get_logger(__name__)


def permissions_policy() -> str:
    """``{"camera": "(self)", "geolocation": "()"}`` -> ``camera=(self), geolocation=()``."""
    policy = getattr(settings, "PERMISSIONS_POLICY", {})
    return ", ".join(f"{feature}={allow}" for feature, allow in policy.items())


def carries_personal_data(request: HttpRequest) -> bool:
    """A signed-in user's response, or any API response."""
    if request.path_info.startswith(API_PREFIX):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    """Add Permissions-Policy everywhere and no-store where personal data may be served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = permissions_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy:
            response.setdefault("Permissions-Policy", self.policy)
        if carries_personal_data(request):
            response["Cache-Control"] = NO_STORE
            response.headers.pop("Expires", None)
        return response


# --- 500 / 503 ------------------------------------------------------------------------------------
def database_unavailable(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what it was raised from) says the database cannot be reached."""
    while exc is not None:
        if isinstance(exc, DATABASE_DOWN):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: problem JSON for the API, the generic page for people."""
    if request.path_info.startswith(API_PREFIX):
        body = {
            "type": "about:blank",
            "title": str(_("Service temporarily unavailable")),
            "status": 503,
            "detail": str(
                _("The service is temporarily unavailable. Please try again in a few minutes.")
            ),
        }
        response: HttpResponse = JsonResponse(
            body, status=503, content_type="application/problem+json"
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    response["Cache-Control"] = NO_STORE
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a 503 when the database is down (the exception being handled), else 500.

    Django calls the handler inside its ``except`` block, so ``sys.exc_info()`` is the error.
    """
    if database_unavailable(sys.exc_info()[1]):
        logger.error("database_unavailable", path=request.path_info)
        return unavailable_response(request)
    if request.path_info.startswith(API_PREFIX):
        body = {"type": "about:blank", "title": str(_("Server error")), "status": 500}
        return JsonResponse(body, status=500, content_type="application/problem+json")
    return HttpResponse(loader.get_template("500.html").render(), status=500)
