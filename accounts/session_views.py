"""The user's own sessions page: see where you are signed in and end the other sessions (SE-3).

Offered after an MFA enrolment when other sessions exist (``after_credential_change``); a
password change ends the other sessions by itself (``views.PasswordChangeView``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache

from accounts.sessions import end_other_sessions, other_sessions


def _next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return ""


def after_credential_change(request: HttpRequest, next_url: str) -> str:
    """The sessions page (offering to end the others) when other sessions exist, else ``next_url``."""
    if not other_sessions(request).exists():
        return next_url
    return reverse("accounts:sessions") + "?" + urlencode({"next": next_url})


@method_decorator([never_cache, login_required], name="dispatch")
class SessionsView(View):
    """GET lists the other sessions; POST ends them all."""

    template_name = "accounts/sessions.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {"sessions": other_sessions(request).select_related("user"), "next": _next(request)}
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        ended = end_other_sessions(request, reason="user_request")
        messages.success(
            request,
            ngettext("%(count)d other session ended.", "%(count)d other sessions ended.", ended) % {"count": ended},
        )
        return HttpResponseRedirect(_next(request) or reverse("accounts:sessions"))
