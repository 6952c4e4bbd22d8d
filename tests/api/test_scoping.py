"""AC-3 / AC-4 / DP-1 / DP-2: rows outside the agreement are absent or 404, fields outside it
never appear, filters on them are refused, pseudonyms are per agency, consent is honoured."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from accounts.agreements import pseudonym
from accounts.models import PartnerPseudonym
from registry.models import Registration
from tests.api.conftest import make_agreement, register

pytestmark = pytest.mark.django_db
PSEUDO = ["persons:read:pseudonymous", "places:read", "events:read"]


def _person_ids(api, url="/api/v1/registrations/"):
    return [row["person"] for row in api.get(url).json()["results"]]


def test_out_of_scope_rows_are_absent_and_404(partner, official, gov, place_a, place_far):
    api = partner(make_agreement(gov, PSEUDO, [place_a]))
    register(official, place_a)
    far = register(official, place_far)
    assert len(_person_ids(api)) == 1
    assert api.get(f"/api/v1/places/{place_far.pk}/").status_code == 404
    assert api.get(f"/api/v1/places/{place_a.pk}/").status_code == 200
    assert api.get(f"/api/v1/persons/{far.person_id}/").status_code == 404  # a real UUID, out of scope
    assert api.get(f"/api/v1/persons/{pseudonym(gov.pk, far.person_id)}/").status_code == 404  # never served
    for bad in ("not-a-uuid", "1", "%00", "../places"):
        assert api.get(f"/api/v1/persons/{bad}/").status_code == 404
        assert api.get(f"/api/v1/places/{bad}/").status_code == 404


def test_another_agencys_pseudonym_is_404(partner, official, gov, ngo, place_a):
    register(official, place_a)
    api_gov = partner(make_agreement(gov, PSEUDO, [place_a]))
    api_ngo = partner(make_agreement(ngo, PSEUDO, [place_a]))
    gov_id = _person_ids(api_gov)[0]
    ngo_id = _person_ids(api_ngo)[0]
    assert api_ngo.get(f"/api/v1/persons/{gov_id}/").status_code == 404
    assert api_ngo.get(f"/api/v1/persons/{ngo_id}/").status_code == 200
    assert api_ngo.get("/api/v1/registrations/", {"person": gov_id}).json()["results"] == []


def test_pseudonyms_stable_per_agency_unlinkable_across(partner, official, gov, ngo, place_a):
    registration = register(official, place_a)
    api_gov = partner(make_agreement(gov, PSEUDO, [place_a]))
    first, again = _person_ids(api_gov)[0], _person_ids(api_gov)[0]
    other = _person_ids(partner(make_agreement(ngo, PSEUDO, [place_a])))[0]
    assert first == again
    assert first != other
    assert str(registration.person_id).replace("-", "") not in first.lower()
    assert len(first) == 24 and first.isalnum()
    assert PartnerPseudonym.objects.get(agency=gov, pseudonym=first).person_id == registration.person_id
    reg_ids = {r["id"] for r in api_gov.get("/api/v1/registrations/").json()["results"]}
    assert str(registration.pk) not in reg_ids  # row ids are per-agency too


def test_identified_agreement_sees_uuids_and_names_when_listed(partner, official, gov, place_a):
    registration = register(official, place_a)
    fields = {"persons": ["given_names", "first_surname", "sex"]}
    api = partner(make_agreement(gov, ["persons:read:identified"], [place_a], fields=fields))
    body = api.get(f"/api/v1/persons/{registration.person_id}/").json()
    assert body["id"] == str(registration.person_id)
    assert body["given_names"] == "Ana"


def test_identifying_fields_need_the_identified_scope(gov, place_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        make_agreement(gov, ["persons:read:pseudonymous"], [place_a], fields={"persons": ["given_names"]})
    with pytest.raises(ValidationError):
        make_agreement(gov, ["places:read"], [place_a], fields={"persons": ["no_such_field"]})


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, {"id", "status", "merged_into", "modified_at"}),
    ({"persons": ["sex"]}, {"id", "status", "merged_into", "modified_at", "sex"}),
    ({"persons": ["sex", "nationality", "birth_year"]},
     {"id", "status", "merged_into", "modified_at", "sex", "nationality", "birth_year"}),
])
def test_person_field_snapshot(fields, expected, partner, official, gov, place_a):
    register(official, place_a)
    api = partner(make_agreement(gov, PSEUDO, [place_a], fields=fields))
    rows = api.get("/api/v1/persons/").json()["results"]
    assert [set(row) for row in rows] == [expected]


def test_filter_outside_agreement_is_refused(partner, official, gov, place_a):
    register(official, place_a)
    api = partner(make_agreement(gov, PSEUDO, [place_a], fields={"persons": ["sex"]}))
    assert api.get("/api/v1/persons/", {"sex": "f"}).status_code == 200
    for params in ({"nationality": "GT"}, {"vulnerability": "trafficking"}, {"ordering": "document_number_bidx"},
                   {"search": "Ana"}, {"birth_year": "1990"}):
        response = api.get("/api/v1/persons/", params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["attr"] == next(iter(params))


def test_duplicate_query_params_refused(partner, gov, place_a):
    api = partner(make_agreement(gov, PSEUDO, [place_a]))
    assert api.get("/api/v1/places/?code=API-A&code=API-B").status_code == 400


def test_page_size_capped(partner, official, gov, place_a, settings):
    settings.API_MAX_PAGE_SIZE = 2
    for _ in range(3):
        register(official, place_a)
    api = partner(make_agreement(gov, PSEUDO, [place_a]))
    page = api.get("/api/v1/registrations/", {"page_size": 1000000, "limit": 1000000000, "offset": -1})
    assert page.status_code == 200
    assert len(page.json()["results"]) == 2 and page.json()["next"]


def test_consent_withdrawal_removes_from_consent_agreements(partner, official, ngo, place_a):
    registration = register(official, place_a, consent=True)
    without = register(official, place_a)
    api = partner(make_agreement(ngo, PSEUDO, [place_a], legal_basis="consent"))
    ids = _person_ids(api)
    assert len(ids) == 1  # the person without consent is not there
    assert api.get(f"/api/v1/persons/{ids[0]}/").status_code == 200
    Registration.objects.filter(pk=registration.pk).update(consent_withdrawn_at=timezone.now())
    assert api.get(f"/api/v1/persons/{ids[0]}/").status_code == 404
    assert _person_ids(api) == []
    assert without.person_id


def test_modified_after_reports_tombstones(partner, official, gov, place_a):
    from registry.models import Person

    kept = register(official, place_a)
    gone = register(official, place_a)
    api = partner(make_agreement(gov, PSEUDO, [place_a]))
    since = "2000-01-01T00:00:00Z"
    ids = {row["id"] for row in api.get("/api/v1/persons/", {"modified_after": since}).json()["results"]}
    assert len(ids) == 2
    Person.objects.filter(pk=gone.person_id).update(status="merged", merged_into=kept.person_id, modified_at=timezone.now())
    rows = api.get("/api/v1/persons/", {"modified_after": since}).json()["results"]
    tomb = next(r for r in rows if r["status"] == "merged")
    assert set(tomb) == {"id", "status", "merged_into", "modified_at"}
    assert tomb["merged_into"] in ids


def test_agreement_suspension_bites_at_once(partner, gov, place_a):
    agreement = make_agreement(gov, PSEUDO, [place_a])
    api = partner(agreement)
    assert api.get("/api/v1/places/").status_code == 200
    agreement.status = "suspended"
    agreement.save()
    assert api.get("/api/v1/places/").status_code == 403


def test_uuid_of_unknown_place_is_404(partner, gov, place_a):
    api = partner(make_agreement(gov, PSEUDO, [place_a]))
    assert api.get(f"/api/v1/places/{uuid.uuid4()}/").status_code == 404
