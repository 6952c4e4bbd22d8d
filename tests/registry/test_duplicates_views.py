"""The duplicate queue pages: list, filters, pagination and empty states; the side-by-side
comparison (differences highlighted, reasons translated, documents masked); decisions, stale
and double submits; the undo; permissions per role; a merged record's pages lead to the survivor."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from privacy.models import AccessLog
from registry import services
from registry.models import DuplicateCandidate, MergeRecord, Person
from registry.resolution import merge, reasons
from registry.resolution.engine import probable_threshold
from registry.views import duplicates
from registry.vocabulary import DuplicateStatus, PersonStatus
from tests.factories.accounts import AgencyFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

QUEUE = reverse("registry:duplicates")


def pair_of(
    a: Person, b: Person, score: float = 0.95, reasons_=("same_birth_date", "surnames_swapped")
):
    first, second = sorted([a, b], key=lambda p: p.pk)
    return DuplicateCandidate.objects.create(
        person_a=first, person_b=second, score=score, reasons=list(reasons_)
    )


@pytest.fixture
def people(registrar, place):
    rosa = register_person(
        registrar, place, given_names="Rosa María", first_surname="Ixcot", second_surname="Tzul"
    ).person
    maria = register_person(
        registrar, place, given_names="Rosa María", first_surname="Tzul", second_surname="Ixcot"
    ).person
    services.add_document(
        registrar, rosa, kind="passport", number="P55443322", issuing_country="GT"
    )
    return rosa, maria


@pytest.fixture
def pair(people):
    return pair_of(*people)


@pytest.fixture
def client_as(login):
    return login


def decide(
    client,
    pair,
    decision: str,
    reason: str = "Mismo pasaporte visto en la entrevista",
    versions=None,
):
    pair.person_a.refresh_from_db()
    pair.person_b.refresh_from_db()
    version_a, version_b = versions or (pair.person_a.version, pair.person_b.version)
    return client.post(
        reverse("registry:duplicate", args=[pair.pk]),
        {
            "decision": decision,
            "reason": reason,
            "version_a": version_a,
            "version_b": version_b,
        },
    )


# --- the queue ----------------------------------------------------------------------------------


def test_empty_queue_explains_where_pairs_come_from(supervisor, login):
    response = login(supervisor).get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="empty-state"' in html
    with translation.override("es"):
        assert (
            str(
                translation.gettext(
                    "Pairs appear here from the duplicate warning at registration, the nightly check and imports."
                )
            )
            in html
        )


def test_queue_lists_pairs_with_translated_reasons_and_logs_the_read(supervisor, login, pair):
    response = login(supervisor).get(QUEUE)
    html = response.content.decode()
    assert html.count('data-testid="pair-row"') == 1
    assert pair.person_a.display_reference in html and pair.person_b.display_reference in html
    with translation.override("es"):
        assert reasons.label("surnames_swapped") in html
    assert "surnames_swapped" not in html  # codes are never shown
    log = AccessLog.objects.get(purpose="duplicate queue (pending)")
    assert set(log.object_ids) == {str(pair.person_a_id), str(pair.person_b_id)}


def test_queue_paginates_and_filters_by_band(supervisor, login, registrar, place, monkeypatch):
    monkeypatch.setattr(duplicates, "PAGE_SIZE", 2)
    people_ = [
        register_person(registrar, place, given_names=name).person
        for name in ("Ana", "Berta", "Carla")
    ]
    high = probable_threshold() + 0.01
    pair_of(people_[0], people_[1], score=high)
    pair_of(people_[0], people_[2], score=high - 0.005)
    low = pair_of(people_[1], people_[2], score=0.5)
    client = login(supervisor)
    first = client.get(QUEUE).content.decode()
    assert first.count('data-testid="pair-row"') == 2 and "page=2" in first
    second = client.get(QUEUE, {"page": 2}).content.decode()
    assert (
        second.count('data-testid="pair-row"') == 1 and str(low.pk) in second
    )  # lowest score last
    probable = client.get(QUEUE, {"band": "probable"}).content.decode()
    assert probable.count('data-testid="pair-row"') == 2 and str(low.pk) not in probable
    possible = client.get(QUEUE, {"band": "possible"}).content.decode()
    assert possible.count('data-testid="pair-row"') == 1 and str(low.pk) in possible
    assert client.get(QUEUE, {"band": "nonsense", "show": "nonsense"}).status_code == 200


def test_band_with_no_pairs_offers_all_scores(supervisor, login, pair):
    html = login(supervisor).get(QUEUE, {"band": "possible"}).content.decode()
    assert 'data-testid="empty-state"' in html and "?show=pending" in html


# --- comparison ------------------------------------------------------------------------------------


def test_comparison_highlights_differences_and_masks_documents(supervisor, login, pair, people):
    rosa, _maria = people
    response = login(supervisor).get(reverse("registry:duplicate", args=[pair.pk]))
    assert response.status_code == 200
    rows = {row["label"]: row for row in response.context["rows"]}
    differing = {str(label) for label, row in rows.items() if row["differs"]}
    same = {str(label) for label, row in rows.items() if not row["differs"]}
    html = response.content.decode()
    assert html.count('data-differs="true"') == len(differing) >= 3  # surnames and documents
    assert any("First surname" in label or "Primer apellido" in label for label in differing)
    assert any("Given names" in label or "Nombre" in label for label in same)
    assert "P55443322" not in html and "••••••322" in html
    with translation.override("es"):
        assert reasons.label("same_birth_date") in html
    assert AccessLog.objects.filter(
        purpose="duplicate comparison", object_ids__contains=[str(rosa.pk)]
    ).exists()


# --- decisions -----------------------------------------------------------------------------------


def test_different_people_leaves_the_queue_for_good(supervisor, login, pair):
    client = login(supervisor)
    response = decide(client, pair, "different", "Madre e hija con el mismo nombre")
    assert response.status_code == 302 and response.url == QUEUE
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.DIFFERENT_PEOPLE and pair.decided_by == supervisor
    assert 'data-testid="pair-row"' not in client.get(QUEUE).content.decode()
    decided = client.get(QUEUE, {"show": "decided"}).content.decode()
    assert decided.count('data-testid="pair-row"') == 1


def test_same_person_merges_and_old_pages_lead_to_the_survivor(supervisor, login, pair):
    client = login(supervisor)
    response = decide(client, pair, "keep_b")
    assert response.status_code == 302
    record = MergeRecord.objects.get()
    assert record.survivor_id == pair.person_b_id and record.merged_id == pair.person_a_id
    old = pair.person_a_id
    for name in ("registry:person", "registry:receipt"):
        followed = client.get(reverse(name, args=[old]))
        assert followed.status_code == 302 and followed.url == reverse(
            name, args=[pair.person_b_id]
        )
    page = client.get(reverse("registry:person", args=[old]), follow=True)
    assert page.status_code == 200 and page.context["person"].pk == pair.person_b_id
    merges = client.get(QUEUE, {"show": "merges"}).content.decode()
    assert merges.count('data-testid="merge-row"') == 1 and 'data-testid="unmerge"' in merges


def test_a_missing_reason_or_decision_is_a_field_error(supervisor, login, pair):
    client = login(supervisor)
    response = decide(client, pair, "keep_a", reason="")
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = decide(client, pair, "")
    assert "decision" in response.context["form"].errors
    assert not MergeRecord.objects.exists()
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.PENDING


def test_a_double_submit_merges_once(supervisor, login, pair):
    client = login(supervisor)
    versions = (pair.person_a.version, pair.person_b.version)
    assert decide(client, pair, "keep_a", versions=versions).status_code == 302
    again = decide(client, pair, "keep_a", versions=versions)
    assert again.status_code == 409
    assert 'data-testid="decision-error"' in again.content.decode()
    assert MergeRecord.objects.count() == 1


def test_a_pair_decided_by_a_colleague_is_not_decided_again(
    supervisor, login, make_user, agency, pair
):
    colleague = make_user("supervisor", agency=agency)
    services.decide_candidate(colleague, pair, same=False, reason="Distintas")
    response = decide(login(supervisor), pair, "keep_a")
    assert response.status_code == 409
    pair.refresh_from_db()
    assert pair.decided_by == colleague and not MergeRecord.objects.exists()


def test_a_record_changed_meanwhile_is_not_merged_blindly(supervisor, registrar, login, pair):
    client = login(supervisor)
    seen = (pair.person_a.version, pair.person_b.version)
    services.update_person(
        registrar,
        pair.person_a,
        {"second_surname": "Otro"},
        expected_version=seen[0],
        reason="typo",
    )
    response = decide(client, pair, "keep_b", versions=seen)
    assert response.status_code == 409
    form = response.context["form"]
    assert form.non_field_errors() and form.data["version_a"] == str(
        seen[0] + 1
    )  # deciding again is deliberate
    assert not MergeRecord.objects.exists()
    assert decide(client, pair, "keep_b", versions=(seen[0] + 1, seen[1])).status_code == 302


# --- undo ---------------------------------------------------------------------------------------------


def test_undo_from_the_merges_list(supervisor, login, pair):
    client = login(supervisor)
    decide(client, pair, "keep_a")
    record = MergeRecord.objects.get()
    url = reverse("registry:unmerge", args=[record.pk])
    refused = client.post(url, {"reason": ""}, follow=True)
    assert Person.objects.get(pk=record.merged_id).status == PersonStatus.MERGED
    assert refused.context["messages"]
    assert client.post(url, {"reason": "Eran hermanas"}).status_code == 302
    assert Person.objects.get(pk=record.merged_id).status == PersonStatus.ACTIVE
    again = client.post(url, {"reason": "Otra vez"}, follow=True)
    assert any(word in str(m) for m in again.context["messages"] for word in ("undone", "deshizo", "deshecho"))
    record.refresh_from_db()
    assert record.undo_reason == "Eran hermanas"


# --- permissions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["registrar", "analyst", "auditor"])
def test_other_roles_are_refused(make_user, agency, place, login, pair, role):
    client = login(make_user(role, agency=agency, places=[place]))
    assert client.get(QUEUE).status_code == 403
    assert client.get(reverse("registry:duplicate", args=[pair.pk])).status_code == 403
    assert decide(client, pair, "keep_a").status_code == 403
    assert not MergeRecord.objects.exists()


def test_a_supervisor_of_another_agency_sees_nothing(make_user, login, pair):
    client = login(make_user("supervisor", agency=AgencyFactory(code="otra")))
    assert 'data-testid="pair-row"' not in client.get(QUEUE).content.decode()
    assert client.get(reverse("registry:duplicate", args=[pair.pk])).status_code == 404
    assert decide(client, pair, "keep_a").status_code == 404
    assert not MergeRecord.objects.exists()


def test_undo_needs_the_merge_permission(supervisor, registrar, login, pair):
    record = services.merge_people(supervisor, pair.person_a, pair.person_b, "Misma persona")
    assert (
        login(registrar)
        .post(reverse("registry:unmerge", args=[record.pk]), {"reason": "x"})
        .status_code
        == 403
    )
    assert Person.objects.get(pk=record.merged_id).status == PersonStatus.MERGED


def test_nav_link_only_for_supervisors(supervisor, registrar, login):
    assert 'data-testid="nav-duplicates"' in login(supervisor).get(QUEUE).content.decode()
    assert (
        'data-testid="nav-duplicates"'
        not in login(registrar).get(reverse("registry:search")).content.decode()
    )


def test_an_old_reference_finds_the_survivor_in_search(supervisor, login, pair):
    record = merge.merge_people(supervisor, pair.person_a, pair.person_b, "Misma persona")
    response = login(supervisor).get(reverse("registry:search"), {"q": record.merged.reference})
    assert response.status_code == 200
    assert [row["person"].pk for row in response.context["rows"]] == [record.survivor_id]


def selects(captured) -> int:
    return sum(1 for query in captured.captured_queries if query["sql"].startswith("SELECT"))


def test_queue_queries_do_not_grow_with_the_page(supervisor, login, registrar, place):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    names = ("Ana", "Berta", "Carla", "Dora", "Elena")
    people_ = [register_person(registrar, place, given_names=name).person for name in names]
    client = login(supervisor)
    pair_of(people_[0], people_[1])
    client.get(QUEUE)  # the session's first save is not the page's cost
    with CaptureQueriesContext(connection) as one:
        client.get(QUEUE)
    for other in people_[2:]:
        pair_of(people_[0], other)
        pair_of(people_[1], other)
    with CaptureQueriesContext(connection) as seven:
        html = client.get(QUEUE).content.decode()
    assert html.count('data-testid="pair-row"') == 7
    assert selects(seven) == selects(one)


def test_the_survivors_history_says_who_merged_what(supervisor, login, pair):
    client = login(supervisor)
    decide(client, pair, "keep_a", reason="Mismo pasaporte")
    record = MergeRecord.objects.get()
    response = client.get(reverse("registry:person", args=[record.survivor_id]), {"tab": "history"})
    entries = [e for e in response.context["history"] if e["reason"].startswith("merge ")]
    assert entries and all(e["user"] == supervisor for e in entries)
    assert entries[0]["reason"] == f"merge {record.merged.reference} -> {record.survivor.reference}"


def test_an_admin_of_any_agency_decides(make_user, login, pair):
    client = login(make_user("admin", agency=AgencyFactory(code="central")))
    assert client.get(QUEUE).content.decode().count('data-testid="pair-row"') == 1
    assert decide(client, pair, "different", "Distintas").status_code == 302
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.DIFFERENT_PEOPLE
