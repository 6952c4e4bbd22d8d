"""The OAuth2 endpoints partners use (client credentials): token and revocation, throttled per
client address (``config.ratelimits``; AU-2: a brake, not a security boundary)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from oauth2_provider import views as dot_views

from config.ratelimits import RETRY_AFTER_SECONDS, over_limit


def _over_limit(request) -> bool:
    return over_limit(request, "oauth-token", settings.OAUTH_TOKEN_RATE)


def _throttled() -> JsonResponse:
    response = JsonResponse({"error": "slow_down", "error_description": str(_("Too many token requests."))}, status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class TokenView(dot_views.TokenView):
    def post(self, request, *args, **kwargs):
        if _over_limit(request):
            return _throttled()
        return super().post(request, *args, **kwargs)


class RevokeTokenView(dot_views.RevokeTokenView):
    def post(self, request, *args, **kwargs):
        if _over_limit(request):
            return _throttled()
        return super().post(request, *args, **kwargs)
