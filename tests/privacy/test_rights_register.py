"""The rights register: who asked, which right, received and due dates, duplicates, unknown
people, permissions, and the pages (SECURITY.md DP-3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from privacy.models import RequestStatus, RightsRequest
from privacy.rights import services
from tests.conftest import verified_client
from tests.privacy.rights_world import make_world

pytestmark = pytest.mark.django_db


def _open(world, right="access", **kwargs):
    data = {
        "person_reference": world.person.display_reference,
        "right": right,
        "requester": "subject",
        "identity_check": "Pasaporte mostrado en persona",
    }
    data.update(kwargs)
    return services.open_request(world.dpo, **data)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (dt.date(2026, 11, 2), dt.date(2026, 11, 30)),  # a Monday: four whole weeks
        (dt.date(2026, 11, 6), dt.date(2026, 12, 4)),  # a Friday
        (dt.date(2026, 11, 7), dt.date(2026, 12, 7)),  # a Saturday rolls to Monday first
    ],
)
def test_due_date_counts_working_days(received, due, settings):
    settings.RIGHTS_HOLIDAY_COUNTRIES = []
    assert services.due_date(received, 20) == due


@pytest.mark.parametrize(
    ("countries", "received", "due"),
    [
        (["MX"], dt.date(2026, 11, 2), dt.date(2026, 12, 1)),  # Revolution Day, Monday 16 November
        (["MX"], dt.date(2026, 12, 10), dt.date(2027, 1, 11)),  # Christmas and New Year's Day
        (["GT"], dt.date(2026, 10, 1), dt.date(2026, 10, 30)),  # Revolution Day (GT), Tuesday 20 October
        (["MX", "GT"], dt.date(2026, 10, 1), dt.date(2026, 10, 30)),
    ],
)
def test_due_date_skips_official_holidays(countries, received, due, settings):
    settings.RIGHTS_HOLIDAY_COUNTRIES = countries
    assert services.due_date(received, 20) == due


def test_due_date_follows_the_setting(settings):
    settings.RIGHTS_DUE_WORKING_DAYS = 5
    assert services.due_date(dt.date(2026, 11, 2)) == dt.date(2026, 11, 9)


def test_request_records_who_asked_and_when_it_is_due(make_user):
    world = make_world(make_user)
    request = _open(
        world,
        requester="representative",
        representative_name="Lic. Marta Ríos",
        identity_check="Carta poder cotejada con INE de la representante",
    )
    request.refresh_from_db()
    assert request.person == world.person and request.status == RequestStatus.RECEIVED
    assert request.representative_name == "Lic. Marta Ríos"
    assert request.due_date == services.due_date(timezone.localdate(request.received_at))
    assert request.created_by == world.dpo


def test_reference_is_found_without_dashes_or_case(make_user):
    world = make_world(make_user)
    request = _open(world, person_reference=world.person.reference.lower())
    assert request.person == world.person


def test_unknown_person_is_a_field_error_and_nothing_is_stored(make_user):
    world = make_world(make_user)
    with pytest.raises(ValidationError) as exc:
        _open(world, person_reference="ZZZZ-ZZZZ-Z")
    assert "person_reference" in exc.value.message_dict
    assert not RightsRequest.objects.exists()


def test_all_errors_at_once(make_user):
    world = make_world(make_user)
    with pytest.raises(ValidationError) as exc:
        _open(
            world,
            right="deletion",
            requester="representative",
            identity_check=" ",
            representative_name="",
        )
    assert set(exc.value.message_dict) == {"right", "identity_check", "representative_name"}


def test_duplicate_open_request_is_refused_but_a_closed_one_does_not_block(make_user):
    world = make_world(make_user)
    first = _open(world)
    with pytest.raises(ValidationError) as exc:
        _open(world)
    assert "right" in exc.value.message_dict
    assert RightsRequest.objects.count() == 1
    _open(world, right="opposition")  # another right is another request
    services.refuse(world.dpo, first, reason="Solicitud duplicada por error")
    assert _open(world).pk != first.pk


def test_database_refuses_a_second_open_request_too(make_user):
    world = make_world(make_user)
    first = _open(world)
    duplicate = RightsRequest(
        person=first.person,
        right=first.right,
        requester="subject",
        identity_check="x",
        due_date=first.due_date,
        created_by=world.dpo,
    )
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_future_received_date_is_refused(make_user):
    world = make_world(make_user)
    with pytest.raises(ValidationError) as exc:
        _open(world, received_at=timezone.now() + dt.timedelta(days=2))
    assert "received_at" in exc.value.message_dict


def test_only_the_data_protection_role_registers_requests(make_user):
    world = make_world(make_user)
    with pytest.raises(PermissionDenied):
        services.open_request(
            world.registrar,
            person_reference=world.person.reference,
            right="access",
            requester="subject",
            identity_check="x",
        )


def test_refusal_needs_a_reason_and_closes_the_request(make_user):
    world = make_world(make_user)
    request = _open(world)
    with pytest.raises(ValidationError):
        services.refuse(world.dpo, request, reason="  ")
    services.refuse(world.dpo, request, reason="La identidad no pudo verificarse")
    request.refresh_from_db()
    assert (
        request.status == RequestStatus.REFUSED
        and request.handled_by == world.dpo
        and request.decided_at
    )
    with pytest.raises(ValidationError):
        services.refuse(world.dpo, request, reason="otra vez")


# --- pages -------------------------------------------------------------------------------------


def test_new_request_page_registers_and_shows_the_due_date(make_user):
    world = make_world(make_user)
    client = verified_client(world.dpo)
    response = client.post(
        "/privacy/requests/new/",
        {
            "person_reference": world.person.display_reference,
            "right": "access",
            "requester": "subject",
            "identity_check": "Pasaporte mostrado",
            "details": "Quiere saber qué datos hay",
        },
    )
    request = RightsRequest.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/privacy/requests/{request.pk}/"
    )
    page = client.get(response["Location"])
    assert page.status_code == 200 and request.due_date.isoformat() in page.content.decode()


def test_new_request_page_shows_errors_next_to_fields(make_user):
    world = make_world(make_user)
    client = verified_client(world.dpo)
    _open(world)
    response = client.post(
        "/privacy/requests/new/",
        {
            "person_reference": world.person.display_reference,
            "right": "access",
            "requester": "subject",
            "identity_check": "Pasaporte",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["right"]
    response = client.post(
        "/privacy/requests/new/",
        {
            "person_reference": "NOPE",
            "right": "access",
            "requester": "subject",
            "identity_check": "x",
        },
    )
    assert response.status_code == 400 and response.context["form"].errors["person_reference"]
    assert RightsRequest.objects.count() == 1


def test_other_roles_cannot_see_the_register(make_user):
    world = make_world(make_user)
    request = _open(world)
    for user in (world.registrar, make_user("analyst"), make_user("auditor")):
        client = verified_client(user)
        assert client.get("/privacy/requests/").status_code == 403
        assert client.get(f"/privacy/requests/{request.pk}/").status_code == 403


def test_supervisor_sees_only_requests_escalated_to_them(make_user):
    world = make_world(make_user)
    request = _open(world)
    client = verified_client(world.supervisor)
    assert client.get(f"/privacy/requests/{request.pk}/").status_code == 404
    RightsRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.ESCALATED, escalated_to=world.supervisor
    )
    page = client.get(f"/privacy/requests/{request.pk}/")
    assert page.status_code == 200 and not page.context["can_change"]
    assert client.post(
        f"/privacy/requests/{request.pk}/refuse/", {"refuse-reason": "no"}
    ).status_code in (302, 403)
    request.refresh_from_db()
    assert request.status == RequestStatus.ESCALATED


def test_list_filters_by_status(make_user):
    world = make_world(make_user)
    _open(world)
    closed = _open(world, right="opposition")
    services.refuse(world.dpo, closed, reason="no procede")
    client = verified_client(world.dpo)
    rows = client.get("/privacy/requests/?status=refused").context["page_obj"].object_list
    assert [r.pk for r in rows] == [closed.pk]


@pytest.mark.parametrize(("role", "shown"), [("data_protection", True), ("supervisor", True), ("registrar", False), ("analyst", False)])
def test_main_navigation_links_the_rights_register_for_roles_that_see_it(make_user, login, role, shown):
    from django.urls import reverse

    body = login(make_user(role)).get(reverse("crossings:list")).content.decode()
    assert (f'href="{reverse("privacy:requests")}"' in body) is shown
