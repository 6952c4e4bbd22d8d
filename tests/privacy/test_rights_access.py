"""Access, rectification and opposition requests (SECURITY.md DP-3, DP-1)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from accounts.agreements import pseudonyms_for
from privacy.access_log import log_access
from privacy.models import AccessLog, RequestStatus
from privacy.rights import export, services
from registry import services as registry_services
from registry.models import Person, Registration
from tests.conftest import verified_client
from tests.privacy.rights_world import (
    CANARY_GIVEN,
    CANARY_SURNAME,
    make_agreement,
    make_world,
    partner_agency,
)
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _request(world, right):
    return services.open_request(
        world.dpo,
        person_reference=world.person.reference,
        right=right,
        requester="subject",
        identity_check="Pasaporte mostrado en persona",
    )


def test_export_holds_everything_about_the_person_and_who_read_it(make_user):
    world = make_world(make_user)
    person = world.person
    registry_services.add_document(
        world.registrar, person, kind="passport", number="G12345678", issuing_country="GT"
    )
    registry_services.flag(
        world.registrar, person, "pregnant_lactating", details="Embarazo de 7 meses"
    )
    acnur = partner_agency()
    reader = make_user("supervisor", agency=acnur)
    log_access(
        user=reader,
        action="api_read",
        object_type="registry.person",
        object_ids=[person.pk],
        purpose="protection",
        agreement="dsa-acnur-1",
    )
    other = register_person(
        world.registrar, world.place, given_names="Otra Persona", first_surname="Ajena"
    )
    log_access(
        user=reader, action="view", object_type="registry.person", object_ids=[other.person_id]
    )

    data = export.build(person)
    text = export.as_json(data).decode()
    assert (
        CANARY_GIVEN in text
        and CANARY_SURNAME in text
        and "G12345678" in text
        and "Embarazo de 7 meses" in text
    )
    assert [r["place"] for r in data["registrations"]] == [world.place.name]
    assert data["registrations"][0]["consent_purposes"] == ["partner_sharing"]
    disclosures = data["disclosures"]
    assert len(disclosures) == 1
    assert disclosures[0]["agency"] == acnur.name and disclosures[0]["agreement"] == "dsa-acnur-1"
    assert "Otra Persona" not in text and "Ajena" not in text


def test_export_download_is_pdf_or_json_and_is_logged(make_user):
    world = make_world(make_user)
    request = _request(world, "access")
    client = verified_client(world.dpo)
    before = AccessLog.objects.filter(action="export").count()
    pdf = client.get(f"/privacy/requests/{request.pk}/export.pdf")
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    assert "no-store" in pdf["Cache-Control"]
    payload = client.get(f"/privacy/requests/{request.pk}/export.json")
    assert json.loads(payload.content)["person"]["given_names"] == CANARY_GIVEN
    logs = AccessLog.objects.filter(action="export").order_by("at")
    assert logs.count() == before + 2
    assert (
        logs.last().object_ids == [str(world.person.pk)]
        and logs.last().purpose == f"rights:access:{request.pk}"
    )
    assert client.get(f"/privacy/requests/{request.pk}/export.xml").status_code == 404


def test_export_only_for_access_requests(make_user):
    world = make_world(make_user)
    request = _request(world, "opposition")
    with pytest.raises(ValidationError):
        export.deliver(world.dpo, request, "json")
    assert (
        verified_client(world.dpo).get(f"/privacy/requests/{request.pk}/export.json").status_code
        == 404
    )


def test_access_request_is_completed_with_how_it_was_delivered(make_user):
    world = make_world(make_user)
    request = _request(world, "access")
    client = verified_client(world.dpo)
    response = client.post(f"/privacy/requests/{request.pk}/complete/", {"complete-reason": ""})
    assert response.status_code == 400 and response.context["complete_form"].errors
    response = client.post(
        f"/privacy/requests/{request.pk}/complete/", {"complete-reason": "Entregado en mano"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (
        request.status == RequestStatus.COMPLETED and request.decision_reason == "Entregado en mano"
    )


def test_rectification_goes_through_the_registry_with_the_request_as_reason(make_user):
    world = make_world(make_user)
    request = _request(world, "rectification")
    person = world.person
    client = verified_client(world.dpo)
    form = client.get(f"/privacy/requests/{request.pk}/rectify/").context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(given_names="Canaria Corregida", birth_date="1990-05-17", birth_precision="exact")
    response = client.post(f"/privacy/requests/{request.pk}/rectify/", data)
    assert response.status_code == 302, response.context["form"].errors
    person.refresh_from_db()
    request.refresh_from_db()
    assert person.given_names == "Canaria Corregida" and request.status == RequestStatus.COMPLETED
    latest = person.history.latest()
    assert (
        latest.history_change_reason == f"rights-request:{request.pk}"
        and latest.history_user == world.dpo
    )
    assert (
        person.history.earliest().given_names == CANARY_GIVEN
    )  # the previous value stays in history


def test_rectification_errors_come_back_by_field_and_change_nothing(make_user):
    world = make_world(make_user)
    request = _request(world, "rectification")
    with pytest.raises(ValidationError) as exc:
        services.rectify(
            world.dpo, request, {"given_names": ""}, expected_version=world.person.version
        )
    assert "given_names" in exc.value.message_dict
    request.refresh_from_db()
    world.person.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED and world.person.given_names == CANARY_GIVEN
    with pytest.raises(ValidationError):
        services.rectify(
            world.dpo, request, {"status": "erased"}, expected_version=world.person.version
        )


def test_opposition_stops_consent_based_sharing_only(make_user):
    world = make_world(make_user)
    consent_partner = make_agreement(partner_agency(), [world.place], legal_basis="consent")
    mandate_partner = make_agreement(
        partner_agency("government"), [world.place], legal_basis="public_interest"
    )
    pseudonyms_for(consent_partner.agency_id, [world.person.pk])
    assert Person.objects.visible_to_agreement(consent_partner).filter(pk=world.person.pk).exists()
    request = _request(world, "opposition")
    response = verified_client(world.dpo).post(
        f"/privacy/requests/{request.pk}/oppose/", {"note-reason": ""}
    )
    assert response.status_code == 302
    assert (
        not Person.objects.visible_to_agreement(consent_partner).filter(pk=world.person.pk).exists()
    )
    assert Person.objects.visible_to_agreement(mandate_partner).filter(pk=world.person.pk).exists()
    registration = Registration.objects.get(pk=world.registration.pk)
    assert registration.consent_withdrawn_at is not None
    assert registration.history.latest().history_change_reason == f"rights-request:{request.pk}"
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED and request.handled_by == world.dpo


def test_opening_a_person_in_the_register_is_logged(make_user):
    world = make_world(make_user)
    request = _request(world, "access")
    verified_client(world.dpo).get(f"/privacy/requests/{request.pk}/")
    assert AccessLog.objects.filter(
        user=world.dpo, action="view", object_ids=[str(world.person.pk)]
    ).exists()
