"""CSRF on every state-changing route (SECURITY.md SE-2).

Walks every named route (the route inventory's walker) as a signed-in, MFA-verified superuser
whose client enforces CSRF checks, and POSTs without a token. Every route must refuse with 403
(CSRF) — or 405 where POST is not allowed at all. The only exceptions are listed with the reason:
they do not use the session cookie, so a forged cross-site request carries no authority.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import verified_client
from tests.test_route_inventory import all_routes, build_url

# Not protected by the CSRF token, and why that is safe.
CSRF_EXEMPT: dict[str, str] = {
    "oauth-token": "OAuth2 token endpoint: client credentials in the request, no cookie",
    "oauth-revoke": "OAuth2 revocation: client credentials in the request, no cookie",
    "health-live": "GET-only probe (405 for POST) outside the session",
    "health-ready": "GET-only probe (405 for POST) outside the session",
}


@pytest.mark.django_db
def test_every_post_without_a_csrf_token_is_refused(make_user, settings):
    settings.MFA_REQUIRED = True
    client = verified_client(
        make_user("superuser"), Client(enforce_csrf_checks=True, raise_request_exception=False)
    )
    problems, checked, forbidden = [], 0, 0
    for name, route in sorted(all_routes().items()):
        if name in CSRF_EXEMPT:
            continue
        url = build_url(route)
        assert url is not None, name
        response = client.post(url, {"x": "1"})
        checked += 1
        forbidden += response.status_code == 403
        if response.status_code not in (403, 405):
            problems.append(f"{name} ({url}): {response.status_code}")
    assert checked > 50  # the walk really covered the site
    assert forbidden > checked // 2, (
        checked,
        forbidden,
    )  # mostly CSRF refusals, not "no POST here"
    print(f"{checked} routes, {forbidden} refused by CSRF, the rest 405")  # noqa: T201
    assert problems == [], "POST without a CSRF token was not refused:\n" + "\n".join(problems)
