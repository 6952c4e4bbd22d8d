"""Security headers on representative responses (SECURITY.md CF-1)."""

from __future__ import annotations

import re

import pytest

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
def page(request, client, db):
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


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/health/")


@pytest.mark.urls("tests.config.nonce_urls")
def test_script_src_carries_the_nonce_a_page_uses(client, db):
    response = client.get("/inline/", secure=True)
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in csp_directives(response)["script-src"]
    other = client.get("/inline/", secure=True).content.decode()
    assert nonce not in other  # a fresh nonce per response
