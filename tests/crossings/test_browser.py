"""A real Chromium: sign in, see the official crossings, open the offline map."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from crossings.loader import load_reference_places

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def inject_session(page, live_server, client) -> None:
    """Give the browser the session of an MFA-verified test client (skips the login form)."""
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )


def check_official_list(page, live_server) -> None:
    page.goto(f"{live_server.url}/places/?official=true")
    rows = page.locator("[data-testid=place-table] tbody tr")
    assert rows.count() == 8
    assert "MXGT-01" in rows.first.inner_text()


def check_map(page, live_server, screenshot: str) -> None:
    page.goto(f"{live_server.url}/places/map/")
    page.wait_for_selector("#place-map.leaflet-container")
    page.wait_for_selector("#place-map[data-ready=true]")
    assert page.locator("#place-map path.place-marker").count() >= 10
    assert page.locator("#place-map path.place-marker-shelter").count() == 1
    assert page.locator("#place-map path.leaflet-interactive, #place-map svg path").count() > 10
    assert page.locator("[data-testid=approximate-places] li").count() >= 20
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_login_then_list_and_map(page, live_server, browser_login, make_user):
    """The whole path a registrar takes: login form, TOTP, list, map."""
    load_reference_places()
    browser_login(page, make_user("registrar"))
    check_official_list(page, live_server)
    check_map(page, live_server, "crossings-map.png")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_map_markers_and_popup(page, live_server, make_user, login):
    """Markers are drawn from the JSON data and open a popup linking to the place."""
    load_reference_places()
    inject_session(page, live_server, login(make_user("analyst")))
    check_official_list(page, live_server)
    check_map(page, live_server, "crossings-map-session.png")
    page.locator("#place-map path.place-marker-shelter").click()
    popup = page.locator(".leaflet-popup-content a")
    assert popup.inner_text().startswith("SH-LA72")
    assert popup.get_attribute("href") == "/places/SH-LA72/"
