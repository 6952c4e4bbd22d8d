"""Security headers on representative responses (SECURITY.md CF-1)."""

from __future__ import annotations

import re

import pytest

from tests.security.production import apply_production

PAGES = {
    "login page": ("/accounts/login/", 200),
    "liveness": ("/health/", 200),
    "not found": ("/no-such-page/", 404),
}


def csp_directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    policy = response["Content-Security-Policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


@pytest.fixture(params=list(PAGES), ids=list(PAGES))
def page(request, client, db, settings):
    apply_production(settings)  # HSTS and cookies as deployed, whatever DEBUG the shell exports
    path, status = PAGES[request.param]
    response = client.get(path, secure=True)
    assert response.status_code == status
    return response


def test_csp_locks_down_objects_base_and_framing(page):
    csp = csp_directives(page)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]


def test_csp_script_src_has_no_inline_or_placeholder(page):
    sources = csp_directives(page)["script-src"]
    assert "'self'" in sources
    assert "'unsafe-inline'" not in sources
    assert "'nonce'" not in sources  # an unreplaced placeholder would be a broken policy


def test_basic_security_headers(page):
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Frame-Options"] == "DENY"
    assert "charset=utf-8" in page["Content-Type"].lower()


def test_hsts_over_https_for_a_year_with_subdomains(page):
    hsts = page["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 31_536_000
    assert "includeSubDomains" in hsts


def test_no_hsts_over_plain_http(client, settings):
    apply_production(settings)
    assert "Strict-Transport-Security" not in client.get("/health/")


@pytest.mark.urls("tests.config.nonce_urls")
def test_script_src_carries_the_nonce_a_page_uses(client, db):
    response = client.get("/inline/", secure=True)
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in csp_directives(response)["script-src"]
    other = client.get("/inline/", secure=True).content.decode()
    assert nonce not in other  # a fresh nonce per response


# --- Permissions-Policy, COOP, no-store (CF-1) ----------------------------------------------------
def test_permissions_policy_and_coop(page):
    policy = dict(item.strip().split("=", 1) for item in page["Permissions-Policy"].split(","))
    assert policy == {"camera": "(self)", "geolocation": "()", "microphone": "()", "payment": "()"}
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"


SIGNED_IN_PAGES = ["/", "/accounts/password/", "/accounts/sessions/", "/admin/", "/no-such-page/"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_responses_are_not_stored(path, make_user, login):
    response = login(make_user("admin")).get(path, secure=True)
    assert response.status_code in (200, 404)
    assert "no-store" in response["Cache-Control"]
    assert "Permissions-Policy" in response


@pytest.mark.parametrize("path", ["/api/", "/api/v1/no-such-endpoint/"])
def test_api_responses_are_not_stored_even_anonymous(client, db, path):
    response = client.get(path, secure=True)
    assert "no-store" in response["Cache-Control"]


def test_static_files_keep_their_caching(client, db):
    response = client.get("/static/css/registry.css", secure=True)
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "Permissions-Policy" in response
