"""load_reference_data: the eight official crossings, honest coordinates, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.forms.models import model_to_dict

from crossings.loader import check_record, normalise, read_reference
from crossings.models import Place

pytestmark = pytest.mark.django_db

OFFICIAL_CODES = [f"MXGT-0{n}" for n in range(1, 9)]


def run_command() -> str:
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {p.code: (model_to_dict(p), p.modified_at) for p in Place.objects.all()}


def test_loads_the_eight_official_crossings():
    output = run_command()
    official = Place.objects.crossings().filter(is_official=True)
    assert sorted(official.values_list("code", flat=True)) == OFFICIAL_CODES
    assert f"{Place.objects.count()} created, 0 updated, 0 unchanged" in output
    first = Place.objects.get(code="MXGT-01")
    assert (first.locality, first.other_side_locality) == ("Ciudad Hidalgo", "Ciudad Tecún Umán")
    assert first.kind == Place.Kind.ROAD_RAIL_BRIDGE and first.state_code == "MX-CHP"


def test_second_run_changes_nothing():
    run_command()
    before = snapshot()
    output = run_command()
    assert f"0 created, 0 updated, {len(before)} unchanged" in output
    assert snapshot() == before


def test_a_changed_row_is_restored_and_counted_as_updated():
    run_command()
    Place.objects.filter(code="RB-07").update(name="Tampered", notes="")
    output = run_command()
    assert "0 created, 1 updated" in output
    assert Place.objects.get(code="RB-07").name == "Tenosique"


def test_rail_points_shelters_and_informal_points_are_loaded():
    run_command()
    rail = Place.objects.filter(kind=Place.Kind.RAIL_STATION).values_list("code", flat=True)
    assert sorted(rail) == [f"RB-{n:02d}" for n in range(1, 16)]
    assert Place.objects.filter(kind=Place.Kind.SHELTER, code="SH-LA72").exists()
    informal = Place.objects.crossings().filter(is_official=False)
    assert informal.count() >= 4
    assert not informal.filter(latitude__isnull=False).exists()


def test_low_and_unknown_points_never_count_as_precise():
    run_command()
    for place in Place.objects.filter(coord_confidence__in=["low", "nf"]):
        assert not place.has_precise_coordinates, place.code
        if place.latitude is not None:
            assert place.coord_basis, f"{place.code} is a proxy without a stated basis"
    assert Place.objects.get(code="MXGT-08").latitude is None
    assert Place.objects.get(code="MXGT-03").coord_confidence == "low"
    assert Place.objects.get(code="RB-14").coord_confidence == "low"


def test_time_zones_follow_the_side_of_the_border():
    run_command()
    assert set(Place.objects.filter(country="MX").values_list("time_zone", flat=True)) == {"America/Mexico_City"}
    assert set(Place.objects.filter(country="GT").values_list("time_zone", flat=True)) == {"America/Guatemala"}


def test_a_not_found_point_with_coordinates_is_refused():
    record = {**read_reference()[0], "coord_confidence": "nf"}
    with pytest.raises(ValidationError, match="must not carry coordinates"):
        check_record(record["code"], normalise(record))


def test_a_low_point_without_a_basis_is_refused():
    record = {**read_reference()[1], "coord_basis": ""}
    with pytest.raises(ValidationError, match="proxy"):
        check_record(record["code"], normalise(record))
