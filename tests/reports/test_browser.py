"""A real Chromium: the analyst's dashboard draws its charts and the map sized by flow."""

from __future__ import annotations

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_renders_charts_and_map(dataset, analyst, page, browser_login, live_server, settings):
    settings.MFA_REQUIRED = True  # as in production, whatever DEBUG the shell exports
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browser_login(page, analyst)
    page.goto(f"{live_server.url}/reports/dashboard/?date_from=2026-03-01&date_to=2026-03-04")
    page.wait_for_selector("#dashboard[data-ready=true]")
    for canvas in ("chart-time", "chart-pyramid", "chart-place", "chart-nationality", "chart-vulnerability"):
        box = page.locator(f"#{canvas}").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, canvas
    assert page.locator("#dashboard-map path.flow-marker").count() == 2
    assert page.locator("#dashboard-map path.leaflet-interactive, #dashboard-map svg path").count() > 2
    assert "48" in page.locator("#dashboard-note").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reports-dashboard.png"), full_page=True)
