"""Session lifecycle (SECURITY.md SE-1, SE-3): timeouts, and ending a user's sessions at once.

Sessions live in django-qsessions (``qsessions.models.Session``), which keeps the user as a foreign
key, so "every session of this user" is one query. ``SessionPolicyMiddleware`` enforces:

* an **absolute** lifetime, ``SESSION_COOKIE_AGE`` seconds after sign-in, however active;
* an **idle** timeout, ``SESSION_IDLE_SECONDS`` without a request;
* an **active agency**: a user of a deactivated agency is signed out on the next request.

Sign-in time and last activity are stored in the session (``user_logged_in`` stamps both). A
session without the stamps is treated as expired: it predates this policy. The last-activity
stamp is rewritten at most every ``TOUCH_EVERY_SECONDS`` to spare a write per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.messages.storage import default_storage
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from qsessions.models import Session

from accounts import security_events
from accounts.models import Agency, User

LOGIN_AT = "frontera_login_at"
SEEN_AT = "frontera_seen_at"
TOUCH_EVERY_SECONDS = 30
API_PREFIX = "/api/"


# --- Ending sessions -----------------------------------------------------------------------------
def end_sessions(user, *, reason: str, keep_key: str | None = None, keys=None, request=None) -> int:
    """Delete the user's sessions (database and cache), only ``keys`` if given, never ``keep_key``."""
    sessions = Session.objects.filter(user=user)
    if keys is not None:
        sessions = sessions.filter(session_key__in=list(keys))
    if keep_key:
        sessions = sessions.exclude(session_key=keep_key)
    count = sessions.count()
    if count:
        sessions.delete()  # qsessions' queryset delete clears the session cache first
        security_events.record(
            security_events.Kind.SESSIONS_ENDED, user=user, request=request, reason=reason, count=count
        )
    return count


def end_other_sessions(request: HttpRequest, *, reason: str) -> int:
    """End every session of the signed-in user except the one making this request."""
    return end_sessions(request.user, reason=reason, keep_key=request.session.session_key, request=request)


def other_sessions(request: HttpRequest):
    """The signed-in user's live sessions other than this one, newest first."""
    return (
        Session.objects.filter(user=request.user)
        .exclude(session_key=request.session.session_key)
        .order_by("-updated_at")
    )


@receiver(post_save, sender=User, dispatch_uid="accounts.sessions.user_deactivated")
def end_sessions_of_inactive_user(sender, instance: User, **kwargs) -> None:
    """A deactivated user loses every session at once (SE-3)."""
    if not instance.is_active:
        end_sessions(instance, reason="user_deactivated")


@receiver(post_save, sender=Agency, dispatch_uid="accounts.sessions.agency_deactivated")
def end_sessions_of_inactive_agency(sender, instance: Agency, **kwargs) -> None:
    """A deactivated agency's staff lose every session at once (SE-3)."""
    if instance.is_active:
        return
    for user in User.objects.filter(agency=instance, session__isnull=False).distinct():
        end_sessions(user, reason="agency_deactivated")


# --- Timeouts ------------------------------------------------------------------------------------
@receiver(user_logged_in, dispatch_uid="accounts.sessions.stamp_login")
def stamp_login(sender, request: HttpRequest, user, **kwargs) -> None:
    """Record when the session was opened (absolute limit) and first used (idle limit)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def expiry_reason(session, now: float) -> str:
    """'absolute', 'idle' or '' for a session of a signed-in user."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if login_at is None or seen_at is None:
        return "absolute"
    if now - login_at >= settings.SESSION_COOKIE_AGE:
        return "absolute"
    if now - seen_at >= settings.SESSION_IDLE_SECONDS:
        return "idle"
    return ""


def agency_inactive(user) -> bool:
    """True when the user belongs to an agency that was deactivated."""
    return bool(user.agency_id) and not Agency.objects.filter(pk=user.agency_id, is_active=True).exists()


def wants_json(request: HttpRequest) -> bool:
    """API paths and clients that ask only for JSON get a 401 instead of a redirect."""
    accept = request.headers.get("Accept", "")
    return request.path_info.startswith(API_PREFIX) or accept.startswith("application/json")


def signed_out_response(request: HttpRequest, message: str) -> HttpResponse:
    """401 JSON for the API; otherwise a redirect to the login page carrying ``message``."""
    if wants_json(request):
        response = JsonResponse({"detail": message, "code": "session_expired"}, status=401)
        response["WWW-Authenticate"] = 'Session realm="frontera"'
        return response
    url = reverse("accounts:login")
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    response = HttpResponseRedirect(url)
    storage = default_storage(request)  # MessageMiddleware sits further in and will not run
    storage.add(messages.INFO, message)
    storage.update(response)
    return response


class SessionPolicyMiddleware:
    """Sign out sessions past their absolute or idle limit, or of a deactivated agency."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        reason = expiry_reason(request.session, now) or ("agency_inactive" if agency_inactive(user) else "")
        if reason:
            return self.sign_out(request, user, reason)
        if now - request.session[SEEN_AT] >= TOUCH_EVERY_SECONDS:
            request.session[SEEN_AT] = int(now)
        return self.get_response(request)

    @staticmethod
    def sign_out(request: HttpRequest, user, reason: str) -> HttpResponse:
        """End the session, record why, and answer 401 or a redirect to the login page."""
        security_events.record(security_events.Kind.SESSION_EXPIRED, user=user, request=request, reason=reason)
        logout(request)
        if reason == "agency_inactive":
            return signed_out_response(request, _("Your agency’s access is suspended. You have been signed out."))
        return signed_out_response(request, _("Your session has expired. Please sign in again."))
