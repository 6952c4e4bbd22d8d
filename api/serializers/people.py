"""People and registrations, cut to the agreement; people are named by pseudonym or UUID."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.base import AgreementFieldsMixin, ObjectRefField, PersonRefField
from registry.models import Person, Registration


class PersonReadSerializer(AgreementFieldsMixin, serializers.ModelSerializer):
    """A person; merged and erased people come back as tombstones {id, status, merged_into}."""

    resource = "persons"
    id = PersonRefField(source="pk")
    merged_into = PersonRefField(source="merged_into_id", allow_null=True)
    nationality = serializers.CharField(read_only=True)
    country_of_birth = serializers.CharField(read_only=True)

    class Meta:
        model = Person
        fields = (
            "id", "status", "merged_into", "modified_at", "sex", "birth_year", "nationality", "country_of_birth",
            "languages", "reference", "given_names", "first_surname", "second_surname", "birth_date",
        )
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.status != "active":  # tombstone: ids and status only, never data
            return {key: data[key] for key in ("id", "status", "merged_into", "modified_at") if key in data}
        return data


class RegistrationReadSerializer(AgreementFieldsMixin, serializers.ModelSerializer):
    resource = "registrations"
    id = ObjectRefField()
    person = PersonRefField(source="person_id")
    place = serializers.SlugRelatedField(slug_field="code", read_only=True)
    destination_country = serializers.CharField(read_only=True)

    class Meta:
        model = Registration
        fields = (
            "id", "person", "place", "modified_at", "registered_at", "status", "purpose", "destination_country",
            "legal_basis",
        )
        read_only_fields = fields
