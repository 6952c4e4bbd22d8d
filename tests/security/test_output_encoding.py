"""Hostile free text renders escaped in pages, htmx fragments and the admin (SECURITY.md IN-3).

Names cannot hold markup (the name validator refuses ``<``), but free text can: travel details,
notes and vulnerability details. The corpus row 11/12 strings are stored through the services
and every place that shows them is checked for the escaped form and the absence of live markup.
"""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from registry import services
from registry.vocabulary import VulnerabilityKind
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{7*7}} ${7*7} %(password)s"


@pytest.fixture
def hostile(make_user):
    place = PlaceFactory()
    agency = AgencyFactory()
    registrar = make_user("registrar", places=[place], agency=agency)
    registration = register_person(registrar, place)
    services.update_details(
        registrar,
        registration,
        {"notes": f"{SCRIPT} {TEMPLATE}", "destination_detail": IMG},
        expected_version=registration.version,
    )
    flag = services.flag(
        registrar,
        registration.person,
        VulnerabilityKind.SERIOUS_MEDICAL,
        details=IMG,
        registration=registration,
    )
    return registrar, registration, flag


def assert_escaped(body: str, *payloads: str) -> None:
    for payload in payloads:
        assert payload not in body, f"live markup in the page: {payload}"
    assert any(html.escape(p) in body or html.escape(p, quote=False) in body for p in payloads)


def test_person_page_and_htmx_fragment_escape_free_text(hostile, login):
    registrar, registration, _ = hostile
    client = login(registrar)
    page = client.get(reverse("registry:person", args=[registration.person.pk])).content.decode()
    assert_escaped(page, IMG)
    fragment = client.get(
        reverse("registry:details-section", args=[registration.pk, "travel"]),
        HTTP_HX_REQUEST="true",
    )
    if fragment.status_code == 200:
        body = fragment.content.decode()
        assert IMG not in body and SCRIPT not in body


def test_admin_change_pages_escape_free_text(hostile, login, make_user):
    _, registration, flag = hostile
    admin = login(make_user("superuser"))
    shown = []
    for url in (
        reverse("admin:registry_registration_change", args=[registration.pk]),
        reverse("admin:registry_vulnerability_change", args=[flag.pk]),
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert IMG not in body and SCRIPT not in body, url
        shown.append(html.escape(IMG) in body)
    assert any(shown)  # the text is really on an admin page, escaped (not just left out)


def test_template_syntax_is_stored_literally(hostile):
    _, registration, _ = hostile
    registration.refresh_from_db()
    assert registration.notes == f"{SCRIPT} {TEMPLATE}"
