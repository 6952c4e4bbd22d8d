"""IN-3's browser check: hostile free text shown in real Chromium runs no script.

The HTML-level tests (test_output_encoding.py) prove the escaping; this one proves the outcome a
person would see: no dialog opens on the pages that show the text, and the text reads literally.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry import services
from registry.vocabulary import VulnerabilityKind
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person
from tests.security.test_output_encoding import IMG, SCRIPT


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_free_text_opens_no_dialog(page, live_server, browser_login, make_user):
    place, agency = PlaceFactory(), AgencyFactory()
    registrar = make_user("registrar", places=[place], agency=agency)
    registration = register_person(registrar, place)
    services.update_details(
        registrar, registration, {"notes": SCRIPT, "destination_detail": IMG},
        expected_version=registration.version,
    )
    services.flag(registrar, registration.person, VulnerabilityKind.SERIOUS_MEDICAL, details=IMG,
                  registration=registration)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_login(page, registrar)
    for url in (
        reverse("registry:person", args=[registration.person.pk]),
        reverse("registry:search") + "?q=" + registration.person.reference,
    ):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
    page.goto(live_server.url + reverse("registry:person", args=[registration.person.pk]))
    page.wait_for_load_state("networkidle")
    assert IMG in page.inner_text("body")  # shown as the literal text that was typed
    assert dialogs == []
