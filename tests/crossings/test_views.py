"""Place pages: access, filters, pagination, detail, map data, escaping."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crossings.models import Place
from tests.factories.crossings import PlaceFactory, TransitPointFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("crossings:list")


def codes(response) -> set[str]:
    return {place.code for place in response.context["page_obj"]}


@pytest.mark.parametrize(
    "url",
    [LIST_URL, reverse("crossings:map"), reverse("crossings:map-data"), "/places/MXGT-01/"],
)
def test_anonymous_is_sent_to_login(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_list_shows_the_official_crossings(reference_places, registrar_client):
    response = registrar_client.get(LIST_URL, {"official": "true"})
    assert response.status_code == 200
    assert codes(response) == {f"MXGT-0{n}" for n in range(1, 9)}
    assert "Puente Dr. Rodolfo Robles" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "mxgt-07"}, {"MXGT-07"}),
        ({"q": "Tenosique", "category": "transit_point", "kind": "rail_station"}, {"RB-07"}),
        ({"country": "GT"}, {"INF-LATECNICA"}),
        ({"state": "MX-TLA"}, {"RB-13", "SH-SAGRADAFAM"}),
        ({"official": "false", "category": "crossing", "kind": "river_ferry"}, {"INF-SUCHIATE", "INF-LATECNICA"}),
    ],
)
def test_list_filters(reference_places, registrar_client, params, expected):
    assert codes(registrar_client.get(LIST_URL, params)) == expected


def test_status_filter(reference_places, registrar_client):
    Place.objects.filter(code="MXGT-05").update(status=Place.Status.CLOSED)
    assert codes(registrar_client.get(LIST_URL, {"status": "closed"})) == {"MXGT-05"}


def test_list_paginates_and_keeps_the_filters(registrar_client):
    TransitPointFactory.create_batch(30)
    PlaceFactory()
    response = registrar_client.get(LIST_URL, {"category": "transit_point"})
    assert len(response.context["page_obj"]) == 25
    assert "category=transit_point&amp;page=2" in response.content.decode()
    page_two = registrar_client.get(LIST_URL, {"category": "transit_point", "page": 2})
    assert len(page_two.context["page_obj"]) == 5


def test_empty_states(registrar_client):
    response = registrar_client.get(LIST_URL)
    assert "load_reference_data" in response.content.decode()
    PlaceFactory()
    filtered = registrar_client.get(LIST_URL, {"q": "no such place"})
    assert 'data-testid="empty-state"' in filtered.content.decode()
    assert "load_reference_data" not in filtered.content.decode()


def test_htmx_gets_only_the_results(reference_places, registrar_client):
    response = registrar_client.get(LIST_URL, {"q": "MXGT-01"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="place-results"')
    assert "<nav" not in body.split("<section", 1)[0]


def test_detail_by_code(reference_places, registrar_client):
    response = registrar_client.get(reverse("crossings:detail", kwargs={"code": "MXGT-03"}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Talismán" in body and "El Carmen" in body
    assert 'data-testid="place-position"' in body and "13 km" in body


def test_detail_unknown_code_is_404(registrar_client):
    response = registrar_client.get(reverse("crossings:detail", kwargs={"code": "NOPE-99"}))
    assert response.status_code == 404


def test_place_names_are_escaped(registrar_client):
    place = PlaceFactory(name='<script>alert("x")</script>', notes="<b>bold</b>")
    detail = registrar_client.get(place.get_absolute_url()).content.decode()
    listing = registrar_client.get(LIST_URL).content.decode()
    for body in (detail, listing):
        assert '<script>alert("x")</script>' not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in detail


def test_map_data_holds_only_precise_points(reference_places, registrar_client):
    points = registrar_client.get(reverse("crossings:map-data")).json()["points"]
    drawn = {point["code"] for point in points}
    precise = {p.code for p in Place.objects.filter(coord_confidence__in=["high", "medium"])}
    assert drawn == precise
    assert {"MXGT-01", "MXGT-07", "RB-02", "SH-LA72"} <= drawn
    assert not drawn & {"MXGT-02", "MXGT-03", "MXGT-04", "MXGT-05", "RB-14", "MXGT-08"}
    assert {point["group"] for point in points} == {"crossing", "transit", "shelter"}


def test_map_page_lists_the_undrawn_places(reference_places, registrar_client):
    response = registrar_client.get(reverse("crossings:map"))
    listed = {place.code for place in response.context["approximate"]}
    assert {"MXGT-02", "MXGT-04", "RB-14", "MXGT-08", "INF-LIMONES"} <= listed
    assert "MXGT-01" not in listed
    assert 'id="place-map"' in response.content.decode()


def test_map_data_refuses_writes(registrar_client):
    assert registrar_client.post(reverse("crossings:map-data")).status_code == 405
