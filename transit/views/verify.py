"""``GET /verify/<token>/``: the public card check (no login). Shows only the kind, number,
validity and reference; never the name. Any garbage is answered as "not a genuine card"."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.ratelimits import RETRY_AFTER_SECONDS, over_limit
from registry import reference
from transit.permit_rules import PermitKind
from transit.verify import CardCheck, check_online

BADGES = {
    CardCheck.VALID: "success", CardCheck.EXPIRED: "warning", CardCheck.NOT_YET_VALID: "warning",
    CardCheck.SUSPENDED: "warning", CardCheck.REVOKED: "danger", CardCheck.FORGED: "danger",
}


@never_cache
@require_safe
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public answer for a scanned card; 200 for every outcome, so scanners need no special cases
    (429 only when one address asks faster than ``VERIFY_RATE``)."""
    if over_limit(request, "verify", settings.VERIFY_RATE):
        response = render(request, "transit/verify_limited.html", status=429)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    result = check_online(token)
    claims = result.claims
    context = {
        "result": result, "badge": BADGES[result.outcome], "claims": claims,
        "kind_label": PermitKind(claims.kind).label if claims and claims.kind in PermitKind.values else "",
        "reference": reference.display(claims.reference) if claims else "",
    }
    return render(request, "transit/verify.html", context)
