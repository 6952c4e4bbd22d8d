"""Per-address brakes on the endpoints anyone can reach (SECURITY.md AU-2): the public card
check and the OAuth2 token endpoints. django-ratelimit counts in the cache (``CACHES``: Redis in
production, so all workers share one count; per process in the embedded demo), keyed on the
client address exactly as django-axes resolves it (``AXES_IPWARE_PROXY_COUNT`` behind proxies).
A brake on scraping and guessing, not a security boundary: a signed card cannot be forged by
asking often, and client secrets are long."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django_ratelimit.core import is_ratelimited

RETRY_AFTER_SECONDS = 60


def client_address(group: str, request) -> str:
    """The rate-limit key: the client's address as axes sees it."""
    return get_client_ip_address(request) or "unknown"


def over_limit(request, group: str, rate: str) -> bool:
    """Count this request in ``group`` and say whether the address is over ``rate`` ("60/m")."""
    return is_ratelimited(request, group=group, key=client_address, rate=rate, increment=True)
