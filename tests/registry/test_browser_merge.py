"""A real Chromium: a supervisor finds a pair in the duplicate queue, compares it, merges it,
and the survivor's journey on the person page shows both histories. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from registry.models import DuplicateCandidate, MergeRecord, Person
from registry.vocabulary import PersonStatus
from tests.conftest import PASSWORD
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory, TransitPointFactory
from tests.registry.factories import register_person
from tests.registry.test_browser import shot
from transit import services as transit_services
from transit.services import EventInput


def login(page, base: str, user) -> None:
    """The real login form, then the TOTP step when the deployment asks for it (MFA_REQUIRED)."""
    from django_otp.oath import totp

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    if page.locator("input[name=otp_token]").count():
        device = user.totpdevice_set.get(confirmed=True)
        page.fill("input[name=otp_token]", f"{totp(device.bin_key):06d}")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in page.url


def travel(registrar, person, place, kind: str, hours_ago: int, key: str) -> None:
    transit_services.record_event(
        registrar,
        EventInput(
            place=place,
            kind=kind,
            person=person,
            idempotency_key=key,
            mode="foot",
            occurred_at=timezone.now() - dt.timedelta(hours=hours_ago),
            direction="north" if kind == "entry" else "",
        ),
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_supervisor_merges_two_records_and_the_journey_shows_both(page, live_server, make_user):
    bridge = PlaceFactory(code="MXGT-M1", name="Puente Ciudad Hidalgo (prueba)")
    shelter = TransitPointFactory(
        code="SH-M1", name="Albergue Arriaga (prueba)", latitude=16.23, longitude=-93.9
    )
    agency = AgencyFactory(code="inm-merge")
    registrar = make_user(
        "registrar", places=[bridge, shelter], agency=agency, username="registrador-m"
    )
    supervisor = make_user("supervisor", agency=agency, username="supervisora-m")
    # The same man, registered twice: at the bridge, then days later at a shelter, spelled otherwise.
    first = register_person(
        registrar,
        bridge,
        given_names="Kevin Alexander",
        first_surname="Ixcot",
        second_surname="Tzul",
        sex="m",
    ).person
    second = register_person(
        registrar,
        shelter,
        given_names="Kevin",
        first_surname="Tzul",
        second_surname="Ixcot",
        sex="m",
    ).person
    travel(registrar, first, bridge, "entry", 72, "merge-browser-entry")
    travel(registrar, second, shelter, "shelter_in", 10, "merge-browser-shelter")
    a, b = sorted([first, second], key=lambda p: p.pk)
    # The duplicate check after registration usually found the pair already; if not, queue it.
    DuplicateCandidate.objects.get_or_create(
        person_a=a,
        person_b=b,
        defaults={"score": 0.97, "reasons": ["same_birth_date", "surnames_swapped"]},
    )
    base = live_server.url

    login(page, base, supervisor)
    page.goto(f"{base}/people/")
    page.click("[data-testid=nav-duplicates]")
    page.wait_for_url(re.compile(r"/people/duplicates/$"))
    rows = page.locator("[data-testid=pair-row]")
    assert rows.count() == 1
    reasons = rows.first.locator("td").nth(3).inner_text()
    assert reasons.strip() and "_" not in reasons  # translated labels, never the stored codes
    shot(page, "duplicate-queue")

    rows.first.locator("[data-testid=compare-link]").click()
    page.wait_for_selector("[data-testid=comparison]")
    assert (
        page.locator("[data-testid=comparison-row][data-differs=true]").count() >= 3
    )  # names and places differ
    shot(page, "duplicate-compare")
    keep = "keep_a" if a.pk == first.pk else "keep_b"
    page.check(f"input[name=decision][value={keep}]")
    page.fill("textarea[name=reason]", "Mismo pasaporte mostrado en el albergue")
    page.click("[data-testid=decide]")
    page.wait_for_url(re.compile(r"/people/duplicates/$"))
    assert page.locator("[data-testid=empty-state]").is_visible()
    assert page.locator(".messages").inner_text().strip()

    record = MergeRecord.objects.get()
    assert record.survivor_id == first.pk and record.merged_id == second.pk
    assert Person.objects.get(pk=second.pk).status == PersonStatus.MERGED

    # The old record's address leads to the survivor, whose journey holds both histories.
    page.goto(f"{base}/people/{second.pk}/")
    page.wait_for_url(re.compile(rf"/people/{first.pk}/$"))
    timeline = page.locator("[data-testid=person-journey] [data-testid=journey-timeline]")
    text = timeline.inner_text()
    assert "MXGT-M1" in text and "SH-M1" in text
    assert timeline.locator("li[data-category]").count() >= 4  # two registrations and two events
    shot(page, "merged-journey")

    # The merge is listed with its undo.
    page.goto(f"{base}/people/duplicates/?show=merges")
    assert page.locator("[data-testid=merge-row]").count() == 1
    assert page.locator("[data-testid=unmerge]").is_visible()
