"""End to end in Chromium: issue a TVR card to a Guatemalan person, type its reference at a
crossing, record entry then exit, and see both on the journey."""

from __future__ import annotations

from pathlib import Path

import pytest

from transit.models import Permit, TransitEvent

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_issue_card_scan_entry_exit_journey(page, live_server, browser_login, supervisor, crossing, person):
    ARTIFACTS.mkdir(exist_ok=True)
    browser_login(page, supervisor)

    page.goto(f"{live_server.url}/transit/people/{person.pk}/permits/")
    page.select_option("select[name=kind]", "tvr")
    page.click("[data-testid=issue]")
    page.wait_for_selector("[data-testid=visitor-card]")
    permit = Permit.objects.get(person=person)
    assert page.inner_text("[data-testid=card-number]") == permit.number
    page.screenshot(path=str(ARTIFACTS / "transit-card.png"), full_page=True)

    page.goto(f"{live_server.url}/transit/post/?place={crossing.pk}")
    for kind, button in (("entry", "tap-entry"), ("exit", "tap-exit")):
        page.fill("#id_code", person.display_reference)
        page.press("#id_code", "Enter")
        page.wait_for_selector("[data-testid=confirm-panel]")
        assert "Ana López" in page.inner_text("[data-testid=person-name]")
        if kind == "entry":
            page.screenshot(path=str(ARTIFACTS / "transit-confirm.png"), full_page=True)
        page.click(f"[data-testid={button}]")
        page.wait_for_selector("[data-testid=recorded]")
    page.screenshot(path=str(ARTIFACTS / "transit-recorded.png"), full_page=True)
    assert list(TransitEvent.objects.filter(person=person).order_by("occurred_at").values_list("kind", "flag")) == [
        ("entry", ""), ("exit", "")]

    page.goto(f"{live_server.url}/transit/people/{person.pk}/journey/")
    page.wait_for_selector("#journey-map[data-ready=true]")
    categories = page.eval_on_selector_all("[data-testid=journey-timeline] li", "els => els.map(e => e.dataset.category)")
    assert categories == ["registration", "permit", "event", "event"]
    timeline = page.inner_text("[data-testid=journey-timeline]")
    assert "Entry" in timeline or "Entrada" in timeline
    assert "Exit" in timeline or "Salida" in timeline
    page.screenshot(path=str(ARTIFACTS / "transit-journey.png"), full_page=True)

    page.goto(f"{live_server.url}/transit/post/head-count/")
    page.fill("input[name=f_18_59]", "2")
    page.fill("input[name=m_5_11]", "1")
    page.click("[data-testid=head-count-form] button[type=submit]")
    page.wait_for_selector(".alert-success")
    assert TransitEvent.objects.filter(head_count__isnull=False).count() == 1
    page.screenshot(path=str(ARTIFACTS / "transit-head-count.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_verify_page_in_browser(page, live_server, supervisor, person):
    from transit import cards, services

    permit = services.issue_permit(supervisor, person, kind="tvr")
    token = cards.sign(cards.CardClaims(person.reference, permit.number, "tvr", permit.valid_from, permit.valid_until))
    page.goto(f"{live_server.url}/verify/{token}/")
    assert page.get_attribute("[data-testid=verify-outcome]", "data-outcome") == "valid"
    assert "Ana" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "transit-verify.png"), full_page=True)
    page.goto(f"{live_server.url}/verify/{token[:-5]}/")
    assert page.get_attribute("[data-testid=verify-outcome]", "data-outcome") == "forged"
