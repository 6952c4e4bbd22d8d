"""Places (crossings and transit points): reference data, read-only."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.base import AgreementFieldsMixin
from crossings.models import Place


class PlaceReadSerializer(AgreementFieldsMixin, serializers.ModelSerializer):
    resource = "places"

    class Meta:
        model = Place
        fields = (
            "id", "code", "name", "category", "kind", "is_official", "country", "state_code", "locality",
            "municipality", "latitude", "longitude", "coord_confidence", "status", "hours", "time_zone", "modified_at",
        )
        read_only_fields = fields
