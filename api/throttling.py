"""Rate limits per partner agency (one bucket shared by all of an agency's clients).

Counters live in the cache (``CACHES``): with the per-process memory cache each worker counts
alone, and DRF's throttles are racy under concurrency. This is a brake on runaway or abusive
clients, **not a security boundary** (docs/api.md). Writes have their own, smaller bucket.
"""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from api.authentication import partner_auth

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class AgencyRateThrottle(SimpleRateThrottle):
    """``agency`` rate for reads, ``agency_write`` for writes; keyed on the agency (partners),
    the user (sessions) or the address (anonymous)."""

    scope = "agency"

    def allow_request(self, request, view):
        self.scope = "agency" if request.method in SAFE_METHODS else "agency_write"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        return self.THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        auth = partner_auth(request)
        if auth is not None:
            ident = f"agency:{auth.agreement.agency_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"
