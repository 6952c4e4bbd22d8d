"""The officials' pages: scope (404 out of scope), roles, access log, review, receipts."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from privacy.models import AccessLog
from registry import services
from registry.models import DuplicateCandidate, Person, Registration
from registry.vocabulary import DocumentKind, Relationship
from tests.factories.accounts import AgencyFactory
from tests.registry.factories import born_years_ago, register_person

VALID_CUI = "1234567890101"  # verifier digit right, department 01 municipality 01


def logs(action: str | None = None) -> int:
    rows = AccessLog.objects.all()
    return rows.filter(action=action).count() if action else rows.count()


# --- scope and roles ---------------------------------------------------------------------------


def person_urls(person: Person, registration: Registration) -> list[str]:
    return [
        reverse("registry:person", args=[person.pk]),
        reverse("registry:person-edit", args=[person.pk]),
        reverse("registry:receipt", args=[person.pk]),
        reverse("registry:receipt-pdf", args=[person.pk]),
        reverse("registry:details", args=[registration.pk]),
    ]


def test_pages_render_for_the_registrar(login, registrar, registration):
    client = login(registrar)
    for url in [reverse("registry:search"), reverse("registry:register"), *person_urls(registration.person, registration)]:
        assert client.get(url).status_code == 200, url


def test_out_of_scope_people_are_404(login, outsider, registration):
    client = login(outsider)
    for url in person_urls(registration.person, registration):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("registry:details-section", args=[registration.pk, "flags"]), {"kind": "pregnant_lactating"}).status_code == 404
    assert client.post(reverse("registry:submit", args=[registration.pk])).status_code == 404
    assert registration.person.vulnerabilities.count() == 0


def test_unknown_uuid_is_404(login, registrar):
    assert login(registrar).get(reverse("registry:person", args=[uuid.uuid4()])).status_code == 404


def test_anonymous_is_sent_to_login(client, registration):
    response = client.get(reverse("registry:person", args=[registration.person.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_analyst_has_no_people_pages(login, make_user):
    client = login(make_user("analyst"))
    assert client.get(reverse("registry:search")).status_code == 403
    assert client.get(reverse("registry:register")).status_code == 403
    assert client.get(reverse("registry:review-queue")).status_code == 403


def test_review_queue_is_for_supervisors_only(login, registrar, supervisor):
    assert login(registrar).get(reverse("registry:review-queue")).status_code == 403
    assert login(supervisor).get(reverse("registry:review-queue")).status_code == 200


def test_nav_fragment_shows_links_by_permission(login, registrar, supervisor, rf):
    from django.template.loader import render_to_string

    request = rf.get("/")
    html = render_to_string("registry/_nav.html", {"perms": _perms(registrar), "request": request})
    assert reverse("registry:register") in html and reverse("registry:review-queue") not in html
    html = render_to_string("registry/_nav.html", {"perms": _perms(supervisor), "request": request})
    assert reverse("registry:review-queue") in html


def _perms(user):
    from django.contrib.auth.context_processors import PermWrapper

    return PermWrapper(user)


# --- access log ------------------------------------------------------------------------------


def test_person_view_writes_one_access_log_row(login, registrar, registration):
    client = login(registrar)
    before = logs("view")
    response = client.get(reverse("registry:person", args=[registration.person.pk]))
    assert response.status_code == 200
    assert logs("view") == before + 1
    row = AccessLog.objects.filter(action="view").first()
    assert row.user == registrar and row.object_ids == [str(registration.person.pk)]


def test_person_view_fails_closed_when_the_log_cannot_be_written(login, registrar, registration, monkeypatch):
    from privacy.access_log import AccessLogError

    def broken(**kwargs):
        raise AccessLogError("down")

    monkeypatch.setattr("registry.views.common.log_access", broken)
    response = login(registrar).get(reverse("registry:person", args=[registration.person.pk]))
    assert response.status_code == 503
    assert "Ana Lucía".encode() not in response.content


def test_revealing_a_document_number_is_logged(login, registrar, registration):
    document = services.add_document(registrar, registration.person, kind=DocumentKind.DPI, number=VALID_CUI, issuing_country="GT")
    client = login(registrar)
    url = reverse("registry:person", args=[registration.person.pk])
    masked = client.get(url).content.decode()
    assert VALID_CUI not in masked and "•" * 10 + VALID_CUI[-3:] in masked
    before = logs()
    revealed = client.get(url, {"reveal": str(document.pk)}).content.decode()
    assert VALID_CUI in revealed
    assert logs() == before + 2
    assert AccessLog.objects.filter(object_type="registry.identitydocument", object_ids=[str(document.pk)]).count() == 1


def test_search_writes_one_row_with_the_people_shown(login, registrar, place):
    people = [register_person(registrar, place, given_names=f"Ana {n}", first_surname="Pérez").person for n in ("María", "Sofía", "Lucía")]
    client = login(registrar)
    before = logs("search")
    response = client.get(reverse("registry:search"), {"q": "perez ana"})
    assert response.status_code == 200
    assert logs("search") == before + 1
    row = AccessLog.objects.filter(action="search").first()
    assert sorted(row.object_ids) == sorted(str(p.pk) for p in people)


def test_search_without_results_logs_nothing(login, registrar, registration):
    before = logs()
    response = login(registrar).get(reverse("registry:search"), {"q": "Zacarías"})
    assert b'data-testid="empty-state"' in response.content
    assert logs() == before


def test_filter_listing_logs_action_list(login, registrar, registration):
    before = logs("list")
    response = login(registrar).get(reverse("registry:search"), {"nationality": "GT"})
    assert "Ana Lucía" in response.content.decode()
    assert logs("list") == before + 1


def test_search_is_accent_case_and_order_insensitive(login, registrar, place):
    register_person(registrar, place, given_names="José", first_surname="Pérez", second_surname="")
    client = login(registrar)
    for text in ("jose perez", "PÉREZ, JOSÉ", "Perez  Jose"):
        assert "José Pérez" in client.get(reverse("registry:search"), {"q": text}).content.decode(), text


def test_search_by_reference_and_document(login, registrar, registration):
    services.add_document(registrar, registration.person, kind=DocumentKind.DPI, number=VALID_CUI, issuing_country="GT")
    client = login(registrar)
    by_ref = client.get(reverse("registry:search"), {"q": registration.person.display_reference.lower()})
    assert "Ana Lucía" in by_ref.content.decode()
    by_doc = client.get(reverse("registry:search"), {"q": VALID_CUI})
    assert "Ana Lucía" in by_doc.content.decode()


def test_search_never_shows_people_out_of_scope(login, outsider, registration):
    response = login(outsider).get(reverse("registry:search"), {"q": "Ana Pérez"})
    assert "Ana Lucía" not in response.content.decode()


def test_search_is_paginated(login, registrar, place):
    for n in range(27):
        register_person(registrar, place, given_names="Marta", first_surname="Lopez", birth_date=born_years_ago(20 + n))
    client = login(registrar)
    first = client.get(reverse("registry:search"), {"q": "marta lopez"})
    assert first.content.decode().count('class="ref"') == 25
    second = client.get(reverse("registry:search"), {"q": "marta lopez", "page": 2})
    assert second.content.decode().count('class="ref"') == 2
    assert AccessLog.objects.filter(action="search").first().object_count == 2


def test_search_with_a_nul_byte_is_a_field_error(login, registrar):
    response = login(registrar).get(reverse("registry:search"), {"q": "Ana\x00"})
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode() or "caracteres nulos" in response.content.decode()


def test_print_views_are_logged_and_render(login, registrar, registration):
    client = login(registrar)
    before = logs("print")
    html = client.get(reverse("registry:receipt", args=[registration.person.pk]))
    assert html.status_code == 200
    body = html.content.decode()
    assert "<svg" in body and 'class="segno"' in body
    assert registration.person.display_reference in body
    pdf = client.get(reverse("registry:receipt-pdf", args=[registration.person.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert logs("print") == before + 2


def test_receipt_shows_no_sensitive_details(login, registrar, registration):
    services.add_document(registrar, registration.person, kind=DocumentKind.DPI, number=VALID_CUI, issuing_country="GT")
    services.flag(registrar, registration.person, "pregnant_lactating", details="siete meses")
    body = login(registrar).get(reverse("registry:receipt", args=[registration.person.pk])).content.decode()
    assert VALID_CUI[-3:] + "<" not in body and VALID_CUI not in body
    assert "siete meses" not in body and "1990" not in body


# --- person page ------------------------------------------------------------------------------


def test_person_page_shows_history_without_values(login, registrar, registration):
    person = registration.person
    services.update_person(registrar, person, {"given_names": "Ana Sofía"}, expected_version=person.version, reason="typo")
    body = login(registrar).get(reverse("registry:person", args=[person.pk]), {"tab": "history"}).content.decode()
    assert 'data-testid="history"' in body
    assert "given names" in body or "nombre(s)" in body
    assert "typo" in body
    assert "Ana Lucía" not in body.split('data-testid="history"')[1]


def test_history_hides_the_version_bump_of_an_edit(registrar, registration):
    """On PostgreSQL the optimistic version bump (an UPDATE) writes its own history row; the page
    shows one entry per edit, the one with the changed fields and the reason."""
    from registry.views.common import history_entries

    person = registration.person
    services.update_person(registrar, person, {"given_names": "Ana Sofía"}, expected_version=person.version, reason="typo")
    entries = history_entries(person.history.all(), type(person))
    changed = [e for e in entries if e["fields"]]
    assert len(changed) == 1 and changed[0]["reason"] == "typo"
    assert all(e["fields"] or e["type"] != entries[0]["type"] for e in entries)  # no empty "changed" entry


def test_flag_details_only_for_users_with_the_permission(login, registrar, supervisor, registration):
    services.flag(registrar, registration.person, "serious_medical", details="herida de tren")
    url = reverse("registry:person", args=[registration.person.pk])
    assert "herida de tren" not in login(registrar).get(url).content.decode()
    assert "herida de tren" in login(supervisor).get(url).content.decode()


def test_lone_child_shows_unaccompanied(login, registrar, place):
    child = register_person(registrar, place, given_names="Kevin", birth_date=born_years_ago(15))
    body = login(registrar).get(reverse("registry:person", args=[child.person.pk])).content.decode()
    assert 'data-testid="child-protection"' in body


def test_group_members_out_of_scope_are_not_named(login, registrar, outsider, other_place, registration):
    head = services.add_to_group(registrar, registration.person, relationship=Relationship.HEAD)
    stranger = register_person(outsider, other_place, given_names="Desconocida", first_surname="Lejos")
    services.add_to_group(outsider, stranger.person, relationship=Relationship.SIBLING, group=head.group)
    body = login(registrar).get(reverse("registry:person", args=[registration.person.pk])).content.decode()
    assert "Desconocida" not in body
    assert "Person registered at another post" in body or "otro puesto" in body


def test_times_are_shown_in_the_place_time_zone(login, registrar, other_place, make_user, agency):
    import datetime as dt

    official = make_user("registrar", places=[other_place], agency=agency, username="gt-official")
    at = dt.datetime(2026, 1, 5, 18, 30, tzinfo=dt.UTC)
    registration = register_person(official, other_place, given_names="Rosa", registered_at=at)
    body = login(official).get(reverse("registry:details", args=[registration.pk])).content.decode()
    assert "12:30" in body  # 18:30 UTC is 12:30 in Guatemala (UTC-6)


# --- edit and conflicts -----------------------------------------------------------------------


def edit_data(person: Person, **overrides) -> dict:
    data = {
        "given_names": person.given_names, "first_surname": person.first_surname, "second_surname": person.second_surname,
        "sex": person.sex, "birth_precision": person.birth_precision, "birth_date": person.birth_date.isoformat(),
        "nationality": str(person.nationality), "country_of_birth": "", "version": person.version, "reason": "",
    }
    data.update(overrides)
    return data


def test_identity_edit_saves_through_the_service(login, registrar, registration):
    person = registration.person
    response = login(registrar).post(reverse("registry:person-edit", args=[person.pk]), edit_data(person, given_names="Ana Sofía"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.given_names == "Ana Sofía" and person.version == 2


def test_stale_edit_shows_a_conflict_and_keeps_the_input(login, registrar, supervisor, registration):
    person = registration.person
    stale = edit_data(person, given_names="Ana Beatriz")
    services.update_person(supervisor, person, {"first_surname": "Pérez-Ruiz"}, expected_version=person.version)
    response = login(registrar).post(reverse("registry:person-edit", args=[person.pk]), stale)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="conflict"' in body
    assert 'value="Ana Beatriz"' in body
    person.refresh_from_db()
    assert person.given_names == "Ana Lucía" and person.first_surname == "Pérez-Ruiz" and person.version == 2


def test_unknown_post_keys_are_ignored(login, registrar, registration):
    person = registration.person
    data = edit_data(person, status="erased", reference="AAAA", created_by=str(uuid.uuid4()))
    assert login(registrar).post(reverse("registry:person-edit", args=[person.pk]), data).status_code == 302
    person.refresh_from_db()
    assert person.status == "active" and person.reference != "AAAA"


# --- details and submit -----------------------------------------------------------------------


def test_details_sections_save_through_htmx(login, registrar, registration):
    client = login(registrar)
    url = reverse("registry:details-section", args=[registration.pk, "flags"])
    response = client.post(url, {"kind": "pregnant_lactating"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="section-flags"' in response.content.decode() and "<html" not in response.content.decode()
    assert registration.person.vulnerabilities.filter(kind="pregnant_lactating").exists()


def test_details_section_without_js_redirects(login, registrar, registration):
    url = reverse("registry:details-section", args=[registration.pk, "travel"])
    data = {"purpose": "asylum", "destination_country": "US", "destination_detail": "Houston", "consent_purposes": ["family_tracing"], "version": registration.version}
    response = login(registrar).post(url, data)
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.purpose == "asylum" and registration.consent_purposes == ["family_tracing"]


def test_group_join_by_reference_and_child_flag(login, registrar, place, registration):
    client = login(registrar)
    client.post(reverse("registry:details-section", args=[registration.pk, "group"]), {"relationship": "head"})
    group = registration.person.memberships.get().group
    child = register_person(registrar, place, given_names="Luis", birth_date=born_years_ago(8))
    response = client.post(
        reverse("registry:details-section", args=[child.pk, "group"]),
        {"group_reference": group.reference, "relationship": "child"}, HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert child.person.memberships.get().group == group
    assert 'hx-swap-oob="true"' in response.content.decode()


def test_group_reference_out_of_scope_is_not_found(login, registrar, outsider, other_place, registration):
    foreign = register_person(outsider, other_place, given_names="Otra")
    membership = services.add_to_group(outsider, foreign.person, relationship=Relationship.HEAD)
    response = login(registrar).post(
        reverse("registry:details-section", args=[registration.pk, "group"]),
        {"group_reference": membership.group.reference, "relationship": "sibling"},
    )
    assert response.status_code == 200
    assert "No travel group with this reference" in response.content.decode() or "grupo" in response.content.decode()
    assert not registration.person.memberships.exists()


def test_duplicate_warning_shows_visible_candidates_and_records_a_decision(login, registrar, place):
    first = register_person(registrar, place, given_names="José", first_surname="Pérez", second_surname="", birth_date=born_years_ago(30))
    second = register_person(registrar, place, given_names="Jose", first_surname="Perez", second_surname="", birth_date=born_years_ago(30))
    client = login(registrar)
    body = client.get(reverse("registry:details", args=[second.pk])).content.decode()
    assert 'data-testid="duplicate-row"' in body and first.person.display_reference in body
    response = client.post(reverse("registry:decide-duplicate", args=[second.pk, first.person.pk]), {"same": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    pair = DuplicateCandidate.objects.get()
    assert pair.status == "different" and pair.decided_by == registrar
    assert pair.person_a_id < pair.person_b_id


def test_hidden_candidates_are_counted_and_recorded_on_submit(login, registrar, outsider, other_place, place):
    register_person(outsider, other_place, given_names="José", first_surname="Pérez", second_surname="", birth_date=born_years_ago(30))
    mine = register_person(registrar, place, given_names="Jose", first_surname="Perez", second_surname="", birth_date=born_years_ago(30))
    client = login(registrar)
    body = client.get(reverse("registry:details", args=[mine.pk])).content.decode()
    assert 'data-testid="hidden-duplicates"' in body and 'data-testid="duplicate-row"' not in body
    response = client.post(reverse("registry:submit", args=[mine.pk]), {"version": mine.version})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "submitted"
    assert DuplicateCandidate.objects.filter(status="pending").count() == 1


# --- review -----------------------------------------------------------------------------------


@pytest.fixture
def submitted(registrar, registration):
    return services.submit(registrar, registration)


def review(client, registration, decision, reason=""):
    return client.post(reverse("registry:review", args=[registration.pk]), {"decision": decision, "reason": reason, "version": registration.version})


def test_queue_lists_oldest_first_and_logs(login, supervisor, registrar, place, submitted):
    later = services.submit(registrar, register_person(registrar, place, given_names="Zoe"))
    client = login(supervisor)
    before = logs("list")
    body = client.get(reverse("registry:review-queue")).content.decode()
    assert body.index("Ana Lucía") < body.index("Zoe")
    assert logs("list") == before + 1
    assert later.status == "submitted"


def test_supervisor_verifies(login, supervisor, submitted):
    response = review(login(supervisor), submitted, "verify")
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "verified"
    assert submitted.transitions.last().by == supervisor


@pytest.mark.parametrize("decision", ["reject", "correct"])
def test_reason_is_required_to_reject_or_return(login, supervisor, submitted, decision):
    response = review(login(supervisor), submitted, decision)
    assert response.status_code == 200
    assert "Give the reason" in response.content.decode() or "motivo" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_request_correction_with_reason(login, supervisor, submitted):
    review(login(supervisor), submitted, "correct", "Falta el documento")
    submitted.refresh_from_db()
    assert submitted.status == "needs_correction"
    assert submitted.transitions.last().reason == "Falta el documento"


def test_supervisor_cannot_review_own_registration(login, supervisor, place):
    own = services.submit(supervisor, register_person(supervisor, place, given_names="Propia"))
    response = review(login(supervisor), own, "verify")
    assert response.status_code == 200
    assert 'data-testid="review-error"' in response.content.decode()
    own.refresh_from_db()
    assert own.status == "submitted"


def test_supervisor_of_another_agency_gets_404(login, make_user, submitted):
    foreign = make_user("supervisor", agency=AgencyFactory(code="otra"), username="sup-otra")
    assert review(login(foreign), submitted, "verify").status_code == 404
