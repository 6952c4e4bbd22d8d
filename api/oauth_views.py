"""The OAuth2 endpoints partners use (client credentials): token and revocation, throttled per
client address in the cache (AU-2: a brake, not a security boundary)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from oauth2_provider import views as dot_views

TOKEN_REQUESTS_PER_MINUTE = 30


def _over_limit(request) -> bool:
    key = f"oauth-token:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:
        return False
    return count > TOKEN_REQUESTS_PER_MINUTE


def _throttled() -> JsonResponse:
    response = JsonResponse({"error": "slow_down", "error_description": str(_("Too many token requests."))}, status=429)
    response["Retry-After"] = "60"
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
