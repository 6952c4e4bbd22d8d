"""MFA for every human user (SECURITY.md AU-1): no page is served to a password-only session.

``RequireMFAMiddleware`` sits after ``django_otp.middleware.OTPMiddleware``. When
``settings.MFA_REQUIRED`` is true, an authenticated user whose session is not OTP-verified is sent
to enrolment (no confirmed device yet) or to the verification step, on every route except a small
allow-list. API paths answer JSON 403 instead of a redirect. The admin is not special: it goes
through the same check (and ``accounts.admin`` makes the admin site itself demand it too).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device

# Route names a password-only session may reach: the way in, the way out, the MFA steps.
MFA_EXEMPT_URL_NAMES = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:mfa_setup",
        "accounts:mfa_verify",
        "set_language",
        "health-live",
        "health-ready",
    }
)
# Namespaces whose every route is exempt (liveness and readiness probes carry no data).
MFA_EXEMPT_NAMESPACES = frozenset({"health"})
API_PREFIX = "/api/"


def mfa_required() -> bool:
    """Read at request time so tests and the demo can switch it."""
    return bool(getattr(settings, "MFA_REQUIRED", True))


def session_is_verified(request: HttpRequest) -> bool:
    """True when the request's user passed the OTP step in this session."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def is_exempt(request: HttpRequest) -> bool:
    """The small allow-list: MFA pages, login/logout, language switch, health, static files."""
    path = request.path_info
    static_url = "/" + settings.STATIC_URL.lstrip("/")
    if path.startswith(static_url):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if match.view_name in MFA_EXEMPT_URL_NAMES:
        return True
    return bool(set(match.namespaces) & MFA_EXEMPT_NAMESPACES)


def mfa_step_url(user, next_path: str = "") -> str:
    """Where a password-only user goes next: enrolment without a confirmed device, else verify."""
    name = "accounts:mfa_verify" if user_has_device(user, confirmed=True) else "accounts:mfa_setup"
    url = reverse(name)
    if next_path:
        url += "?" + urlencode({"next": next_path})
    return url


class RequireMFAMiddleware:
    """Redirect (HTML) or refuse (API) every authenticated, not OTP-verified request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.must_step_up(request):
            return self.step_up_response(request)
        return self.get_response(request)

    @staticmethod
    def must_step_up(request: HttpRequest) -> bool:
        """Authenticated, MFA enforced, session not verified and the route not exempt."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not mfa_required():
            return False
        return not session_is_verified(request) and not is_exempt(request)

    @staticmethod
    def step_up_response(request: HttpRequest) -> HttpResponse:
        """JSON 403 for the API, a redirect to the MFA step for pages."""
        if request.path_info.startswith(API_PREFIX):
            body = {"detail": _("Two-factor verification is required."), "code": "mfa_required"}
            return JsonResponse(body, status=403)
        next_path = request.get_full_path() if request.method == "GET" else ""
        return HttpResponseRedirect(mfa_step_url(request.user, next_path))
