"""A real Chromium: register a family and a lone child, meet a duplicate warning, submit, and
verify as a supervisor. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.models import Registration
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import born_years_ago

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"registry-{name}.png"), full_page=True)


def register(page, base: str, given: str, first: str, born, sex: str = "f") -> None:
    """Fill the short form and land on the details page of the new draft."""
    page.goto(f"{base}/people/register/")
    page.fill("input[name=given_names]", given)
    page.fill("input[name=first_surname]", first)
    page.select_option("select[name=sex]", sex)
    page.select_option("select[name=nationality]", "GT")
    page.fill("input[name=birth_date]", born.isoformat())
    page.select_option("select[name=legal_basis]", "public_interest")
    page.click("[data-testid=create-draft]")
    page.wait_for_url(re.compile(r"/people/registrations/[0-9a-f-]+/$"))


def join_group(page, relationship: str, reference: str = "") -> None:
    form = page.locator("[data-testid=form-group]")
    if reference:
        form.locator("input[name=group_reference]").fill(reference)
    form.locator("select[name=relationship]").select_option(relationship)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=group-reference]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_family_lone_child_duplicate_and_review(page, browser, live_server, browser_login, make_user):
    place = PlaceFactory(code="MXGT-B1", name="Puente Rodolfo Robles (prueba)")
    agency = AgencyFactory(code="inm-browser")
    registrar = make_user("registrar", places=[place], agency=agency, username="registradora-b")
    supervisor = make_user("supervisor", agency=agency, username="supervisora-b")
    base = live_server.url
    browser_login(page, registrar)

    # The short form hides the birth fields the chosen precision does not use.
    page.goto(f"{base}/people/register/")
    assert page.locator("#div_id_birth_year").is_hidden()
    page.check("input[name=birth_precision][value=year]")
    assert page.locator("#div_id_birth_year").is_visible() and page.locator("#div_id_birth_date").is_hidden()
    shot(page, "short-form")

    # A family of three: the mother as head, two children.
    register(page, base, "Rosa Elena", "Ixcot", born_years_ago(34))
    join_group(page, "head")
    reference = page.locator("[data-testid=group-reference]").inner_text().strip()
    for given, age in (("Kevin Alexander", 9), ("Dulce María", 6)):
        register(page, base, given, "Ixcot", born_years_ago(age), sex="m" if given.startswith("K") else "f")
        join_group(page, "child", reference)
        assert page.locator("[data-testid=group-members] li").count() >= 2
    assert page.locator("[data-testid=child-protection]").count() == 0  # accompanied: no alarm
    shot(page, "family-details")

    # A 15-year-old travelling alone is derived as an unaccompanied child.
    register(page, base, "Brayan", "Tzul", born_years_ago(15), sex="m")
    page.click("text=/Person page|Página de la persona|Ficha/")
    badge = page.locator("[data-testid=child-protection]")
    assert "protection-unaccompanied" in badge.get_attribute("class")
    assert re.search(r"unaccompanied|no acompañad", badge.inner_text(), re.I)
    shot(page, "unaccompanied-child")

    # José Pérez, then Jose Perez born the same year: the warning comes before submitting.
    born = born_years_ago(28)
    register(page, base, "José", "Pérez", born, sex="m")
    register(page, base, "Jose", "Perez", born, sex="m")
    rows = page.locator("[data-testid=duplicate-row]")
    assert rows.count() == 1
    assert "José Pérez" in rows.first.inner_text()
    shot(page, "duplicate-warning")
    rows.first.locator("[data-testid=same-person]").click()
    page.wait_for_selector("[data-testid=duplicate-decision]")
    page.click("[data-testid=submit-registration]")
    page.wait_for_url(re.compile(r"/people/[0-9a-f-]+/$"))
    submitted = Registration.objects.get(status="submitted")
    assert submitted.person.given_names == "Jose"

    # A supervisor of the same agency verifies it from the review queue.
    context = browser.new_context(locale="es-MX", viewport={"width": 1024, "height": 768})
    review_page = context.new_page()
    try:
        browser_login(review_page, supervisor)
        review_page.goto(f"{base}/people/review/")
        assert review_page.locator("[data-testid=review-table] tbody tr").count() == 1
        shot(review_page, "review-queue")
        review_page.click("[data-testid=review-link]")
        review_page.click("[data-testid=verify]")
        review_page.wait_for_url(re.compile(r"/people/review/$"))
        assert review_page.locator("[data-testid=empty-state]").is_visible()
    finally:
        context.close()
    submitted.refresh_from_db()
    assert submitted.status == "verified"

    page.goto(f"{base}/people/{submitted.person.pk}/receipt/")
    assert page.locator(".receipt svg.segno").count() == 1
    shot(page, "receipt")
