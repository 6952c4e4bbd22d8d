"""Bad inputs through the officials' forms (SECURITY.md bad-input rows 1–14, IN-1, IN-3, RL-3):
a clear message next to the field, status 200, nothing stored, never a 500; real names accepted."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import (
    DuplicateCandidate,
    IdentityDocument,
    Person,
    Registration,
    Vulnerability,
)
from registry.vocabulary import DocumentKind
from tests.registry.factories import born_years_ago, register_person

MRZ_L1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
MRZ_L2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"  # the ICAO 9303 specimen


@pytest.fixture
def client_en(login, registrar):
    """The registrar's client with English messages (the source strings)."""
    client = login(registrar)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def field_errors(response, field: str) -> str:
    """The error text crispy renders inside the field's own wrapper (next to the field)."""
    body = response.content.decode()
    found = re.findall(rf'id="error_\d+_id_{field}"[^>]*>\s*<strong>(.*?)</strong>', body, re.S)
    return html.unescape(" ".join(found))


def short_form(place, **overrides) -> dict:
    data = {
        "given_names": "María José", "first_surname": "López", "second_surname": "Ixcot", "sex": "f",
        "nationality": "GT", "birth_precision": "exact", "birth_date": "1990-05-17", "birth_year": "", "age": "",
        "place": str(place.pk), "registered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "legal_basis": "public_interest", "submission_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int]:
    return Person.objects.count(), Registration.objects.count()


BAD_SHORT_FORM = [
    ("given_names", "A" * 256, "at most 100 characters"),
    ("first_surname", "Mar\x00ía", "Null characters are not allowed"),
    ("given_names", "\u202eozneroL", "invisible or direction-changing"),
    ("given_names", "Ana\u200bMaría", "invisible or direction-changing"),
    ("second_surname", "\ufeffPérez", "invisible or direction-changing"),
    ("given_names", "Ma" + "\u0301\u0302\u0303\u0304\u0305" + "ria", "too many accent marks"),
    ("given_names", "Z" + "\u0300" * 500, "at most 100 characters"),
    ("given_names", "Мaria", "look-alike letters"),
    ("given_names", "' OR 1=1--", "letters, spaces, apostrophes"),
    ("first_surname", "'; DROP TABLE registry_person;--", "letters, spaces, apostrophes"),
    ("given_names", "<script>alert(1)</script>", "letters, spaces, apostrophes"),
    ("given_names", "{{7*7}}", "letters, spaces, apostrophes"),
    ("given_names", "%(password)s", "letters, spaces, apostrophes"),
    ("given_names", "Ana\r\nX-Injected: 1", "control characters"),
    ("given_names", "", "This field is required"),
    ("birth_date", "2031-01-01", "cannot be"),
    ("birth_date", "1890-01-01", "cannot be before 1900"),
    ("birth_date", "2023-02-29", "Enter a valid date"),
    ("birth_date", "2024-02-30", "Enter a valid date"),
    ("legal_basis", "", "This field is required"),
    ("sex", "$ne", "Select a valid choice"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_SHORT_FORM)
def test_bad_short_form_input_is_refused_next_to_the_field(client_en, place, field, value, message):
    before = counts()
    response = client_en.post(reverse("registry:register"), short_form(place, **{field: value}))
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"birth_precision": "year", "birth_year": "1890", "birth_date": ""}, "birth_year", "cannot be before 1900"),
        ({"birth_precision": "year", "birth_year": "", "birth_date": ""}, "birth_year", "Enter the year of birth"),
        ({"birth_precision": "estimated", "age": "", "birth_date": ""}, "age", "estimated age"),
        ({"birth_precision": "estimated", "age": "130", "birth_date": ""}, "age", "between 0 and 110"),
        ({"birth_precision": "exact", "birth_date": ""}, "birth_date", "Enter the date of birth"),
    ],
)
def test_birth_skip_logic_errors(client_en, place, overrides, field, message):
    before = counts()
    response = client_en.post(reverse("registry:register"), short_form(place, **overrides))
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert counts() == before


def test_future_registration_time_is_refused(client_en, place):
    future = (timezone.localtime() + timezone.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_en.post(reverse("registry:register"), short_form(place, registered_at=future))
    assert "cannot be in the future" in field_errors(response, "registered_at")
    assert counts() == (0, 0)


def test_place_not_assigned_is_refused(client_en, other_place):
    response = client_en.post(reverse("registry:register"), short_form(other_place))
    assert "Select a valid choice" in field_errors(response, "place")
    assert counts() == (0, 0)


def test_html_in_a_refused_name_is_escaped_in_the_form(client_en, place):
    response = client_en.post(reverse("registry:register"), short_form(place, given_names="<img src=x onerror=alert(1)>"))
    body = response.content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


ACCEPTED_NAMES = [
    {"given_names": "Yaxkin", "first_surname": "", "second_surname": ""},
    {"given_names": "B'alam", "first_surname": "K'iche'", "second_surname": ""},
    {"given_names": "Siobhán", "first_surname": "O'Hara", "second_surname": ""},
    {"given_names": "Juan", "first_surname": "de la Cruz", "second_surname": "Ñandú"},
    {"given_names": "Ana-María", "first_surname": "Pérez-Gómez", "second_surname": "Xicará"},
    {"given_names": "Jean-Baptiste", "first_surname": "Saint-Louis", "second_surname": ""},
]


@pytest.mark.parametrize("names", ACCEPTED_NAMES)
def test_real_names_are_accepted_and_rendered(client_en, place, names):
    response = client_en.post(reverse("registry:register"), short_form(place, **names))
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.given_names == names["given_names"] and person.first_surname == names["first_surname"]
    page = client_en.get(reverse("registry:person", args=[person.pk])).content.decode()
    assert html.escape(person.full_name) in page


@pytest.mark.parametrize(
    "overrides",
    [
        {"birth_precision": "year", "birth_year": "1988", "birth_date": ""},
        {"birth_precision": "estimated", "age": "34", "birth_date": ""},
    ],
)
def test_partial_dates_of_birth_are_accepted(client_en, place, overrides):
    assert client_en.post(reverse("registry:register"), short_form(place, **overrides)).status_code == 302
    assert Person.objects.get().birth_year in (1988, timezone.localdate().year - 34)


def test_the_same_token_twice_creates_one_registration(client_en, place):
    data = short_form(place)
    first = client_en.post(reverse("registry:register"), data)
    second = client_en.post(reverse("registry:register"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert counts() == (1, 1)


def test_short_form_defaults_to_the_primary_post_and_now(client_en, place):
    body = client_en.get(reverse("registry:register")).content.decode()
    assert f'<option value="{place.pk}" selected>' in body
    assert timezone.localtime().strftime("%Y-%m-%dT") in body
    assert 'name="submission_token"' in body and 'autocomplete="off"' in body and 'inputmode="numeric"' in body


def test_time_is_read_in_the_place_time_zone(login, make_user, other_place, agency):
    official = make_user("registrar", places=[other_place], agency=agency, username="gt")
    login(official).post(reverse("registry:register"), short_form(other_place, registered_at="2026-01-05T12:30"))
    assert Registration.objects.get().registered_at == dt.datetime(2026, 1, 5, 18, 30, tzinfo=dt.UTC)


# --- details sub-forms ------------------------------------------------------------------------


def section(client, registration, name, data):
    return client.post(reverse("registry:details-section", args=[registration.pk, name]), data, HTTP_HX_REQUEST="true")


def test_unaccompanied_flag_on_an_adult_is_refused(client_en, registration):
    response = section(client_en, registration, "flags", {"kind": "unaccompanied_child"})
    assert response.status_code == 200
    assert "for children under 18" in field_errors(response, "kind")
    assert Vulnerability.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "passport", "number": "L898902C3", "issuing_country": "NL", "mrz": f"{MRZ_L1}\n{MRZ_L2.replace('C36', 'C35')}"}, "mrz", "check digit"),
        ({"kind": "passport", "number": "L898902C3", "issuing_country": "NL", "mrz": f"{MRZ_L1}\n{MRZ_L2[:-1]}"}, "mrz", "2 lines of 44"),
        ({"kind": "curp", "number": "BOXW310820HNERXN08", "issuing_country": "MX"}, "number", "CURP is not valid"),
        ({"kind": "dpi", "number": "1234567800101", "issuing_country": "GT"}, "number", "verifier digit"),
        ({"kind": "passport", "number": "A1\x00", "issuing_country": "NL"}, "number", "Null characters"),
        ({"kind": "passport", "number": "", "issuing_country": "NL"}, "number", "required"),
        ({"kind": "spaceship", "number": "X1", "issuing_country": "NL"}, "kind", "Select a valid choice"),
    ],
)
def test_bad_documents_are_refused(client_en, registration, data, field, message):
    response = section(client_en, registration, "documents", data)
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert IdentityDocument.objects.count() == 0


def test_valid_mrz_is_accepted(client_en, registration):
    data = {"kind": "passport", "number": "L898902C3", "issuing_country": "NL", "mrz": f"{MRZ_L1}\n{MRZ_L2}"}
    response = section(client_en, registration, "documents", data)
    assert response.status_code == 200 and "Saved." in response.content.decode()
    document = IdentityDocument.objects.get()
    assert document.mrz_checks and all(document.mrz_checks.values())


def test_duplicate_document_is_a_field_error_not_a_500(client_en, registrar, place, registration):
    services.add_document(registrar, registration.person, kind=DocumentKind.DPI, number="1234567890101", issuing_country="GT")
    other = register_person(registrar, place, given_names="Otra")
    response = section(client_en, other, "documents", {"kind": "dpi", "number": "1234567890101", "issuing_country": "GT"})
    assert response.status_code == 200
    assert "already registered" in field_errors(response, "number")
    assert IdentityDocument.objects.count() == 1


def test_unknown_language_code_is_refused(client_en, registration):
    response = section(client_en, registration, "languages", {"other_languages": "xqz", "version": registration.person.version})
    assert "Unknown language code" in field_errors(response, "languages")
    registration.person.refresh_from_db()
    assert registration.person.languages == []


def test_languages_saved_common_and_other(client_en, registration):
    section(client_en, registration, "languages", {"languages": ["spa", "mam"], "other_languages": "quc", "version": registration.person.version})
    registration.person.refresh_from_db()
    assert registration.person.languages == ["spa", "mam", "quc"]


def test_referral_needs_an_agency_or_place(client_en, registration):
    response = section(client_en, registration, "referrals", {"service": "shelter"})
    assert "Choose the agency or the place" in field_errors(response, "to_agency")
    assert registration.person.referrals.count() == 0


def test_legal_guardian_child_is_refused(client_en, registrar, place):
    child = register_person(registrar, place, given_names="Niña", birth_date=born_years_ago(10))
    response = section(client_en, child, "group", {"relationship": "head", "is_legal_guardian": "on"})
    assert "cannot be the legal guardian" in field_errors(response, "is_legal_guardian")
    assert not child.person.memberships.exists()


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "{{7*7}}", "${7*7}", "%(password)s", "=HYPERLINK(\"http://x\",\"ver\")"])
def test_free_text_is_stored_literally_and_escaped(client_en, registration, text):
    data = {"purpose": "transit", "destination_country": "US", "destination_detail": text, "version": registration.version}
    section(client_en, registration, "travel", data)
    registration.refresh_from_db()
    assert registration.destination_detail == text
    page = client_en.get(reverse("registry:person", args=[registration.person.pk])).content.decode()
    assert f'data-testid="destination">{html.escape(text)}<' in page
    assert "<script>alert(1)</script>" not in page and ">49<" not in page


def test_stale_travel_details_are_a_conflict(client_en, registrar, registration):
    services.update_details(registrar, registration, {"purpose": "work"}, expected_version=registration.version)
    response = section(client_en, registration, "travel", {"purpose": "asylum", "version": 1})
    assert "Someone else changed this record" in response.content.decode()
    registration.refresh_from_db()
    assert registration.purpose == "work"


def test_duplicate_decision_needs_a_choice(client_en, registrar, place):
    first = register_person(registrar, place, given_names="José", first_surname="Pérez", second_surname="")
    second = register_person(registrar, place, given_names="Jose", first_surname="Perez", second_surname="")
    client_en.post(reverse("registry:decide-duplicate", args=[second.pk, first.person.pk]), {"same": "maybe"})
    assert DuplicateCandidate.objects.count() == 0


def test_nul_in_edit_form_is_a_field_error(client_en, registration):
    person = registration.person
    data = {"given_names": "An\x00a", "sex": "f", "birth_precision": "exact", "birth_date": "1990-05-17", "version": person.version}
    response = client_en.post(reverse("registry:person-edit", args=[person.pk]), data)
    assert response.status_code == 200
    assert "Null characters" in field_errors(response, "given_names")
    person.refresh_from_db()
    assert person.given_names == "Ana Lucía" and person.version == 1
