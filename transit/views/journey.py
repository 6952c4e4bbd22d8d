"""A person's journey on its own page (the same fragment the person page includes)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from registry.views.duplicates import follows_merges
from transit.journeys import journey_for
from transit.views.common import log_person_read, visible_person


@login_required
@require_safe
@follows_merges
def journey(request: HttpRequest, pk) -> HttpResponse:
    """Timeline and map of one person in scope (404 otherwise); the read is access-logged.
    A merged record's journey address leads to its survivor's journey."""
    person = visible_person(request.user, pk)
    log_person_read(request, [person], purpose="transit.journey")
    return render(request, "transit/journey.html", {"person": person, "journey": journey_for(person)})
