"""Tiny views for the fail-closed tests (used through ROOT_URLCONF overrides only)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse, JsonResponse
from django.urls import path

from privacy import crypto
from privacy.access_log import log_access
from tests.privacy.conftest import CANARY

PERSON_ID = uuid.UUID("00000000-0000-4000-8000-00000000beef")


def person_page(request):
    log_access(
        user=getattr(request, "user", None),
        action="view",
        object_type="registry.person",
        object_ids=[PERSON_ID],
        request=request,
    )
    return HttpResponse(f"<h1>{CANARY}</h1>")


def person_api(request):
    log_access(
        user=getattr(request, "user", None),
        action="api_read",
        object_type="registry.person",
        object_ids=[PERSON_ID],
        request=request,
    )
    return JsonResponse({"name": CANARY})


def undecryptable(request):
    crypto.decrypt_value(CANARY, "registry_person.given_names")  # legacy plaintext in the column
    return HttpResponse(CANARY)


urlpatterns = [
    path("people/beef/", person_page),
    path("api/v1/people/beef/", person_api),
    path("people/broken/", undecryptable),
]
