"""A real Chromium: the data-protection officer registers an access request, downloads the
subject access export, then registers a cancellation, blocks and erases the record, all from
the pages. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from privacy.models import ErasureRecord, RightsRequest
from registry.models import Person
from tests.privacy.rights_world import CANARY_GIVEN, make_world

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"privacy-{name}.png"), full_page=True)


def new_request(page, base: str, reference: str, right: str) -> None:
    page.goto(f"{base}/privacy/requests/new/")
    page.fill("input[name=person_reference]", reference)
    page.select_option("select[name=right]", right)
    page.check("input[name=requester][value=subject]")
    page.fill("textarea[name=identity_check]", "Pasaporte guatemalteco mostrado en persona")
    page.click("[data-testid=save-request]")
    page.wait_for_url(re.compile(r"/privacy/requests/[0-9a-f-]+/$"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_access_export_and_erasure_from_the_pages(
    page, live_server, browser_login, make_user, settings, tmp_path
):
    settings.RIGHTS_BLOCKING_DAYS = 0
    settings.MFA_REQUIRED = True  # the real two-step login, whatever the environment says
    world = make_world(make_user)
    reference = world.person.display_reference
    base = live_server.url
    browser_login(page, world.dpo)

    # Access: register the request, download the PDF export, record the delivery.
    new_request(page, base, reference, "access")
    assert page.locator("[data-testid=person-name]").inner_text().strip().startswith(CANARY_GIVEN)
    shot(page, "access-request")
    with page.expect_download() as download:
        page.click("[data-testid=export-pdf]")
    saved = tmp_path / "export.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF") and saved.stat().st_size > 1000
    page.fill("textarea[name=complete-reason]", "Entregado en mano con acuse")
    page.click("[data-testid=complete-form] button[type=submit]")
    page.wait_for_selector("[data-testid=request-status][data-status=completed]")

    # Cancellation: register, block, erase; the tombstone shows the counts.
    new_request(page, base, reference, "cancellation")
    page.click("[data-testid=block]")
    page.wait_for_selector("[data-testid=request-status][data-status=blocked]")
    shot(page, "blocked")
    page.click("[data-testid=erase]")
    page.wait_for_selector("[data-testid=tombstone]")
    assert page.locator("[data-testid=request-status]").get_attribute("data-status") == "completed"
    assert CANARY_GIVEN not in page.content()
    shot(page, "erased")

    person = Person.objects.get(pk=world.person.pk)
    assert person.status == "erased" and person.given_names == ""
    assert ErasureRecord.objects.filter(person=person).exists()
    assert set(RightsRequest.objects.values_list("status", flat=True)) == {"completed"}
