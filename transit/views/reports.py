"""Supervisor and analyst pages: the overstay list (identified, access-logged) and corridor
flows (aggregated, no identified data)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from registry.models import Person
from transit.corridors import corridor_flows
from transit.forms import CorridorForm, OverstayFilterForm
from transit.overstays import OVERSTAY_LABELS, overstays
from transit.views.common import log_person_read

PAGE_SIZE = 25


@login_required
@permission_required("transit.view_overstays", raise_exception=True)
@require_safe
def overstay_list(request: HttpRequest) -> HttpResponse:
    """People whose last entry has no exit past their authorised stay, or who exited late."""
    form = OverstayFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = overstays(
        place=filters.get("place"), nationality=filters.get("nationality") or "",
        min_days_over=filters.get("min_days") or 0, people=Person.objects.visible_to(request.user),
    ).select_related("person", "place")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log_person_read(request, [row.person for row in page], action="list", purpose="transit.overstays")
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page_obj": page, "labels": OVERSTAY_LABELS, "querystring": query.urlencode()}
    return render(request, "transit/overstays.html", context)


@login_required
@permission_required("transit.view_corridors", raise_exception=True)
@require_safe
def corridors(request: HttpRequest) -> HttpResponse:
    """Aggregated flows crossing → transit point within N days; small cells suppressed."""
    form = CorridorForm(request.GET or {"days": 14})
    flows = corridor_flows(**form.cleaned_data) if form.is_valid() else []
    context = {"form": form, "flows": flows, "k": settings.SMALL_CELL_K}
    return render(request, "transit/corridors.html", context)
