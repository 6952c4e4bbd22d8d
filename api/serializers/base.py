"""Serializer building blocks: fields cut to the agreement, person references, strict input."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.agreements import object_pseudonym, pseudonyms_for


class AgreementFieldsMixin:
    """Drops every field the agreement does not list for ``resource`` (AC-4): a field outside
    the agreement is never rendered, not even as null."""

    resource: str = ""

    def get_fields(self):
        fields = super().get_fields()
        allowed = self.context.get("allowed_fields")
        if allowed is None:
            return fields
        return {name: field for name, field in fields.items() if name in allowed}


class PersonRefs:
    """How one request names people: UUIDs under persons:read:identified, otherwise the
    agency's pseudonyms (recorded in ``PartnerPseudonym`` so they resolve back)."""

    def __init__(self, agency_id, identified: bool) -> None:
        self.agency_id = agency_id
        self.identified = identified
        self._cache: dict[uuid.UUID, str] = {}

    def prime(self, person_ids) -> None:
        """Compute (and record) the pseudonyms of a page at once."""
        if not self.identified:
            missing = [pid for pid in person_ids if pid is not None and pid not in self._cache]
            self._cache.update(pseudonyms_for(self.agency_id, missing))

    def ref(self, person_id) -> str | None:
        if person_id is None:
            return None
        if self.identified:
            return str(person_id)
        if person_id not in self._cache:
            self.prime([person_id])
        return self._cache[person_id]


    def object_ref(self, object_id) -> str:
        """A registration's or event's id: the UUID when identified, else a per-agency id."""
        return str(object_id) if self.identified else object_pseudonym(self.agency_id, object_id)


@extend_schema_field(OpenApiTypes.STR)
class ObjectRefField(serializers.Field):
    """A registration or event id as this agency sees it (see ``PersonRefs.object_ref``)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "pk")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return self.context["person_refs"].object_ref(value)


@extend_schema_field({"type": "string", "nullable": True})
class PersonRefField(serializers.Field):
    """A person as the caller knows them (pseudonym or UUID), read-only."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:
        person_id = value if isinstance(value, uuid.UUID) else getattr(value, "pk", value)
        return self.context["person_refs"].ref(person_id)


class StrictInputMixin:
    """Rejects unknown and read-only keys with 400 naming each one (AC-5, mass assignment)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        writable = {name for name, field in self.fields.items() if not field.read_only}
        errors = {key: [_("This field is not accepted.")] for key in data if key not in writable}
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number that is a whole number: ``"1"``, ``true`` and ``1.5`` are refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(_("A whole number is required."))
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``: ``"true"``, ``1`` and ``"yes"`` are refused."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError(_("true or false is required."))
        return data
