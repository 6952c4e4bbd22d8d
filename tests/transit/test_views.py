"""Pages: quick entry, head-count form, permits, journey, overstays and corridors per role,
with scoping (404 out of scope) and the access log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from privacy.models import AccessLog
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.transit.conftest import make_person, record
from transit import services
from transit.corridors import corridor_counts
from transit.models import HeadCount, Permit, TransitEvent

pytestmark = pytest.mark.django_db


def logged(purpose: str) -> int:
    return AccessLog.objects.filter(purpose=purpose).count()


# --- quick entry -------------------------------------------------------------------------------


def test_lookup_by_reference_shows_identity_and_logs(login, registrar, crossing, person):
    client = login(registrar)
    response = client.post(reverse("transit:lookup"), {"code": person.display_reference, "place": crossing.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Ana López" in response.content.decode()
    assert logged("transit.quick_entry") == 1


def test_lookup_unknown_reference_reveals_nothing(login, registrar, crossing):
    response = login(registrar).post(reverse("transit:lookup"), {"code": "0000-0000-0"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="not-found"' in response.content.decode()
    assert logged("transit.quick_entry") == 0


def test_lookup_by_signed_card_finds_a_holder_out_of_scope(login, make_user, supervisor, person):
    """A card holder registered elsewhere can be identified at any post by presenting the card."""
    permit = services.issue_permit(supervisor, person, kind="tvr")
    other_post = PlaceFactory(code="MXGT-T9")
    official = make_user("registrar", places=[other_post], agency=AgencyFactory(code="other-agency"))
    from transit.views.permits import card_context

    class Req:
        def build_absolute_uri(self, path):
            return path

    token = card_context(Req(), permit)["token"]
    response = login(official).post(reverse("transit:lookup"), {"code": token}, HTTP_HX_REQUEST="true")
    assert "Ana López" in response.content.decode()


def test_one_tap_entry_then_double_tap_records_once(login, registrar, crossing, person):
    client = login(registrar)
    form = {"person": person.pk, "place": crossing.pk, "kind": "entry", "idempotency_key": "tap-key-000001"}
    first = client.post(reverse("transit:record"), form, HTTP_HX_REQUEST="true")
    second = client.post(reverse("transit:record"), form, HTTP_HX_REQUEST="true")
    assert first.status_code == second.status_code == 200
    assert TransitEvent.objects.filter(person=person).count() == 1
    assert "already recorded" in second.content.decode() or "ya registrad" in second.content.decode().lower()


def test_same_key_other_kind_is_refused_in_the_page(login, registrar, crossing, person):
    client = login(registrar)
    form = {"person": person.pk, "place": crossing.pk, "kind": "entry", "idempotency_key": "tap-key-000002"}
    client.post(reverse("transit:record"), form)
    response = client.post(reverse("transit:record"), {**form, "kind": "exit"})
    assert response.status_code == 422
    assert TransitEvent.objects.count() == 1


def test_local_time_is_read_in_the_zone_of_the_post(login, supervisor, gt_post, person):
    form = {"person": person.pk, "place": gt_post.pk, "kind": "entry", "idempotency_key": "tap-key-000003",
            "occurred_at": "2024-05-01T10:00"}
    login(supervisor).post(reverse("transit:record"), form)
    assert TransitEvent.objects.get().occurred_at == dt.datetime(2024, 5, 1, 16, 0, tzinfo=dt.UTC)


# --- head count --------------------------------------------------------------------------------


def test_head_count_form_records_cells(login, registrar, crossing):
    client = login(registrar)
    page = client.get(reverse("transit:head-count"))
    key = page.context["form"].initial["idempotency_key"]
    data = {"place": crossing.pk, "kind": "entry", "idempotency_key": key, "f_18_59": "3", "m_0_4": "2", "x_60": "1", "nationality": "HN"}
    response = client.post(reverse("transit:head-count"), data)
    assert response.status_code == 302
    counted = HeadCount.objects.get()
    assert (counted.f_18_59, counted.m_0_4, counted.x_60, counted.total, counted.nationality) == (3, 2, 1, 6, "HN")
    client.post(reverse("transit:head-count"), data)  # the same form posted twice
    assert HeadCount.objects.count() == 1


def test_empty_head_count_is_an_error(login, registrar, crossing):
    data = {"place": crossing.pk, "kind": "entry", "idempotency_key": "hc-key-000001"}
    response = login(registrar).post(reverse("transit:head-count"), data)
    assert response.status_code == 400
    assert not HeadCount.objects.exists()


def test_head_count_negative_cell_is_an_error(login, registrar, crossing):
    data = {"place": crossing.pk, "kind": "entry", "idempotency_key": "hc-key-000002", "f_5_11": "-2"}
    response = login(registrar).post(reverse("transit:head-count"), data)
    assert response.status_code == 400 and "f_5_11" in response.context["form"].errors


# --- visibility per role -------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("registrar", 200), ("supervisor", 200), ("analyst", 404), ("auditor", 404)])
def test_journey_visibility_per_role(login, make_user, agency, crossing, person, role, status):
    user = make_user(role, places=[crossing], agency=agency)
    response = login(user).get(reverse("transit:journey", args=[person.pk]))
    assert response.status_code == status
    assert logged("transit.journey") == (1 if status == 200 else 0)


def test_journey_of_another_agency_is_404(login, make_user, person):
    outsider = make_user("supervisor", agency=AgencyFactory(code="far-away"))
    assert login(outsider).get(reverse("transit:journey", args=[person.pk])).status_code == 404


def test_journey_shows_events_and_permits_in_order(login, supervisor, crossing, shelter, person):
    services.issue_permit(supervisor, person, kind="tvr")
    record(supervisor, crossing, "entry", person)
    record(supervisor, shelter, "shelter_in", person)
    body = login(supervisor).get(reverse("transit:journey", args=[person.pk])).content.decode()
    assert body.index("MXGT-T1") < body.index("SH-T1")
    assert 'data-category="permit"' in body and 'id="journey-points"' in body


@pytest.mark.parametrize(("role", "status"), [("registrar", 403), ("supervisor", 200), ("analyst", 403)])
def test_overstays_page_per_role(login, make_user, agency, role, status):
    user = make_user(role, agency=agency)
    assert login(user).get(reverse("transit:overstays")).status_code == status


def test_overstays_page_lists_and_logs(login, supervisor, crossing, person):
    permit = services.issue_permit(supervisor, person, kind="tvr")
    Permit.objects.filter(pk=permit.pk).update(valid_from=dt.date(2021, 1, 1), valid_until=dt.date(2021, 12, 31))
    record(supervisor, crossing, "entry", person, at=dt.datetime(2021, 3, 1, 10, tzinfo=dt.UTC))
    response = login(supervisor).get(reverse("transit:overstays"), {"nationality": "GT"})
    assert "Ana López" in response.content.decode()
    log = AccessLog.objects.get(purpose="transit.overstays")
    assert log.object_ids == [str(person.pk)]


@pytest.mark.parametrize(("role", "status"), [("registrar", 200), ("supervisor", 200), ("analyst", 403)])
def test_permits_page_per_role(login, make_user, agency, crossing, person, role, status):
    user = make_user(role, places=[crossing], agency=agency)
    response = login(user).get(reverse("transit:person-permits", args=[person.pk]))
    assert response.status_code in (status, 404 if status == 403 else status)
    if status == 200:
        assert ('data-testid="issue-form"' in response.content.decode()) == (role == "supervisor")


def test_registrar_cannot_issue_through_the_page(login, registrar, person):
    response = login(registrar).post(reverse("transit:person-permits", args=[person.pk]), {"kind": "tvr"})
    assert response.status_code == 403 and not Permit.objects.exists()


def test_card_page_and_pdf(login, supervisor, person):
    permit = services.issue_permit(supervisor, person, kind="tvr")
    client = login(supervisor)
    html = client.get(reverse("transit:card", args=[permit.pk]))
    assert "<svg" in html.content.decode() and permit.number in html.content.decode()
    pdf = client.get(reverse("transit:card-pdf", args=[permit.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(action="print").count() == 2


# --- corridors ---------------------------------------------------------------------------------


def test_corridors_suppress_small_cells(supervisor, crossing, shelter, gt_post):
    other_shelter = PlaceFactory(code="SH-T2", category="transit_point", kind="shelter")
    from accounts.models import PostAssignment

    PostAssignment.objects.create(user=supervisor, place=other_shelter)
    for i in range(6):
        who = make_person(supervisor, crossing, given="Ana " + "abcdef"[i])
        record(supervisor, crossing, "entry", who, at=dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC))
        record(supervisor, shelter, "shelter_in", who, at=dt.datetime(2024, 5, 3, 10, tzinfo=dt.UTC))
        if i < 2:
            record(supervisor, other_shelter, "shelter_in", who, at=dt.datetime(2024, 5, 4, 10, tzinfo=dt.UTC))
    rows = {(r["origin"], r["place"]): r["shown"] for r in corridor_counts(days=14, k=5)}
    assert rows[(crossing.pk, shelter.pk)] == 6
    assert rows[(crossing.pk, other_shelter.pk)] is None
    assert corridor_counts(days=1, k=5) == []


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("registrar", 403)])
def test_corridor_page_per_role(login, make_user, role, status):
    assert login(make_user(role)).get(reverse("transit:corridors")).status_code == status


def test_anonymous_is_sent_to_login(client, person):
    response = client.get(reverse("transit:journey", args=[person.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
