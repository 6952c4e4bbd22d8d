"""Helpers shared by transit views: person scoping and the access-log call."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from privacy.access_log import log_access
from registry.models import Person
from transit.models import Permit, PermitStatus


def visible_person(user, person_id) -> Person:
    """A person in the user's scope, else 404 (never 403: existence is not revealed)."""
    try:
        return Person.objects.visible_to(user).get(pk=person_id)
    except (Person.DoesNotExist, ValueError):
        raise Http404 from None


def card_holders_or_visible(user):
    """People an official at a post may identify: those in scope, plus holders of an active
    card, who present it in person (the card is the reason for the lookup)."""
    holders = Permit.objects.filter(status=PermitStatus.ACTIVE).values("person_id")
    return Person.objects.active().filter(Q(pk__in=Person.objects.visible_to(user).values("pk")) | Q(pk__in=holders))


def log_person_read(request, people, *, action: str = "view", purpose: str) -> None:
    """One access-log row for identified data shown on this request (fails closed)."""
    ids = [p.pk for p in people]
    log_access(user=request.user, action=action, object_type="registry.person", object_ids=ids,
               purpose=purpose, request=request)
