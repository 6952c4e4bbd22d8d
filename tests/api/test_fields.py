"""The agreement vocabulary and the read serializers agree: every field an agreement can list
is one the API renders, and nothing else is ever rendered (AC-4)."""

from __future__ import annotations

import pytest

from accounts.agreements import ALWAYS, IDENTIFYING_FIELDS, RESOURCE_FIELDS
from api.serializers.events import EventReadSerializer
from api.serializers.people import PersonReadSerializer, RegistrationReadSerializer
from api.serializers.places import PlaceReadSerializer

SERIALIZERS = {"places": PlaceReadSerializer, "persons": PersonReadSerializer,
               "registrations": RegistrationReadSerializer, "events": EventReadSerializer}


@pytest.mark.parametrize("resource", sorted(RESOURCE_FIELDS))
def test_serializer_declares_exactly_the_resource_fields(resource):
    serializer = SERIALIZERS[resource]
    assert serializer.resource == resource
    assert set(serializer.Meta.fields) == RESOURCE_FIELDS[resource]
    assert set(serializer().fields) == RESOURCE_FIELDS[resource]


@pytest.mark.parametrize("resource", sorted(RESOURCE_FIELDS))
def test_always_fields_are_ids_and_sync_times(resource):
    assert ALWAYS[resource] <= RESOURCE_FIELDS[resource]
    assert not ALWAYS[resource] & IDENTIFYING_FIELDS
    assert ALWAYS[resource] & {"modified_at", "created_at"}, "incremental sync needs a time under any agreement"


def test_cut_serializer_renders_only_allowed_fields():
    allowed = ALWAYS["places"] | {"name"}
    fields = PlaceReadSerializer(context={"allowed_fields": allowed}).fields
    assert set(fields) == allowed
