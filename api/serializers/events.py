"""Transit events: read (cut to the agreement) and write (government partners)."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import (
    AgreementFieldsMixin,
    ObjectRefField,
    PersonRefField,
    StrictInputMixin,
    StrictIntegerField,
)
from transit.models import TransitEvent
from transit.vocabulary import COUNT_FIELDS, Direction, EventKind, Mode


class HeadCountSerializer(StrictInputMixin, serializers.Serializer):
    """An anonymous count by sex (f, m, x) × age bracket, e.g. ``{"f_0_4": 2, "m_18_59": 5}``."""

    nationality = serializers.CharField(max_length=2, min_length=2, required=False, allow_blank=True)

    def get_fields(self):
        fields = super().get_fields()
        for name in COUNT_FIELDS:
            fields[name] = StrictIntegerField(min_value=0, max_value=10_000, required=False)
        return fields


class EventReadSerializer(AgreementFieldsMixin, serializers.ModelSerializer):
    resource = "events"
    id = ObjectRefField()
    place = serializers.SlugRelatedField(slug_field="code", read_only=True)
    person = PersonRefField(source="person_id", allow_null=True)
    head_count = serializers.SerializerMethodField()

    class Meta:
        model = TransitEvent
        fields = (
            "id", "place", "kind", "occurred_at", "direction", "mode", "person", "head_count", "source", "flag",
            "created_at",
        )
        read_only_fields = fields

    def get_head_count(self, event) -> dict | None:
        if event.head_count_id is None:
            return None
        cells = {name: getattr(event.head_count, name) for name in COUNT_FIELDS}
        return {"nationality": str(event.head_count.nationality), **{k: v for k, v in cells.items() if v}}


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its zone: Mexico and Guatemala posts differ, so naive times are refused."""

    def to_internal_value(self, value):
        if isinstance(value, str) and parse_datetime(value) is not None and parse_datetime(value).tzinfo is None:
            raise serializers.ValidationError(_("Include the time zone offset, e.g. 2026-05-01T10:00:00-06:00."))
        return super().to_internal_value(value)


class EventWriteSerializer(StrictInputMixin, serializers.Serializer):
    """What a partner sends to record an event: a place code, a kind, a time with a zone, and
    either ``person`` (pseudonym or UUID, as the partner knows them) or ``head_count``."""

    place = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=EventKind.choices)
    occurred_at = AwareDateTimeField()
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, default="")
    mode = serializers.ChoiceField(choices=Mode.choices, required=False, default="")
    person = serializers.CharField(max_length=64, required=False)
    head_count = HeadCountSerializer(required=False)

    def validate(self, attrs):
        if ("person" in attrs) == ("head_count" in attrs):
            raise serializers.ValidationError({"person": [_("Send either person or head_count.")]})
        return attrs


class PermitVerifySerializer(StrictInputMixin, serializers.Serializer):
    token = serializers.CharField(max_length=400)


class PermitVerifyResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    kind = serializers.CharField(allow_null=True)
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
