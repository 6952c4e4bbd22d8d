"""Place pages: the filtered list, one place, and the offline map with its JSON data."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from crossings.filters import PlaceFilter
from crossings.models import Place

PAGE_SIZE = 25


def marker_group(place: Place) -> str:
    """The legend group of a map marker: crossing, shelter or transit (rail and the rest)."""
    if place.category == Place.Category.CROSSING:
        return "crossing"
    return "shelter" if place.kind == Place.Kind.SHELTER else "transit"


@login_required
@require_safe
def place_list(request: HttpRequest) -> HttpResponse:
    """All places the user may see, filtered and paginated; htmx gets only the results."""
    places = PlaceFilter(request.GET, queryset=Place.objects.visible_to(request.user))
    page = Paginator(places.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": places,
        "page_obj": page,
        "querystring": query.urlencode(),
        "filtered": any(value for key, value in request.GET.items() if key != "page"),
    }
    template = "crossings/_place_results.html" if request.htmx else "crossings/place_list.html"
    return render(request, template, context)


@login_required
@require_safe
def place_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One place by its public code; unknown codes are 404."""
    place = get_object_or_404(Place.objects.visible_to(request.user), code=code)
    return render(request, "crossings/place_detail.html", {"place": place})


@login_required
@require_safe
def place_map(request: HttpRequest) -> HttpResponse:
    """The offline map page; places without a reliable position are listed beside it."""
    places = Place.objects.visible_to(request.user)
    approximate = [place for place in places if not place.has_precise_coordinates]
    return render(request, "crossings/place_map.html", {"approximate": approximate})


def map_point(place: Place) -> dict:
    """The public fields of one drawable place for the map."""
    return {
        "code": place.code,
        "name": place.name,
        "group": marker_group(place),
        "category_label": place.get_category_display(),
        "kind": place.get_kind_display(),
        "official": place.is_official,
        "confidence": place.get_coord_confidence_display(),
        "lat": float(place.latitude),
        "lon": float(place.longitude),
        "url": place.get_absolute_url(),
    }


def precise_places(user) -> list[Place]:
    """Places with a position good enough to draw (high or medium confidence only)."""
    places = Place.objects.visible_to(user).filter(
        latitude__isnull=False,
        coord_confidence__in=[Place.CoordConfidence.HIGH, Place.CoordConfidence.MEDIUM],
    )
    return [place for place in places if place.has_precise_coordinates]


@login_required
@require_safe
def map_data(request: HttpRequest) -> JsonResponse:
    """Drawable places as JSON for static/js/places-map.js; low and unknown points never appear."""
    return JsonResponse({"points": [map_point(place) for place in precise_places(request.user)]})
