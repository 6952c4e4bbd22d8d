"""Places, persons, registrations and transit events (read), and recording events (write)."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from accounts.agreements import Scope
from api import filters, idempotency
from api.authentication import partner_auth
from api.serializers.events import EventReadSerializer, EventWriteSerializer
from api.serializers.people import PersonReadSerializer, RegistrationReadSerializer
from api.serializers.places import PlaceReadSerializer
from api.views.base import PartnerViewSet
from crossings.models import Place
from registry.models import Person, Registration
from transit import services as transit_services
from transit.models import TransitEvent
from transit.vocabulary import Source

PEOPLE = (Scope.PERSONS_PSEUDONYMOUS, Scope.PERSONS_IDENTIFIED)
PERSON_PARAM = OpenApiParameter("person", OpenApiTypes.STR, description="A person id as you know it.")


class PlaceViewSet(PartnerViewSet):
    """Crossings and transit points covered by your agreement."""

    resource = "places"
    serializer_class = PlaceReadSerializer
    filterset_class = filters.PlaceFilter
    required_scopes = {"list": (Scope.PLACES_READ,), "retrieve": (Scope.PLACES_READ,)}
    queryset = Place.objects.none()

    def get_queryset(self):
        return self.agreement.visible_places().order_by("code")

    def list(self, request):
        return self.paged_response(self.filter_queryset(self.get_queryset()))

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(list=extend_schema(responses=PersonReadSerializer(many=True)))
class PersonViewSet(PartnerViewSet):
    """People with a registration you may see, named by your pseudonyms (or UUIDs when your
    agreement grants identified access). With ``modified_after``, merged and erased people you
    were shown come back as tombstones ``{id, status, merged_into}``."""

    resource = "persons"
    serializer_class = PersonReadSerializer
    filterset_class = filters.PersonFilter
    required_scopes = {"list": PEOPLE, "retrieve": PEOPLE}
    queryset = Person.objects.none()
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Person.objects.visible_to_agreement(self.agreement)

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        if "modified_after" in request.query_params:
            tombstones = Person.objects.tombstones_for_agreement(self.agreement)
            tombstones = filters.PersonFilter(request.query_params, queryset=tombstones).qs
            queryset = Person.objects.filter(Q(pk__in=queryset.values("pk")) | Q(pk__in=tombstones.values("pk")))
        return self.paged_response(queryset, lambda p: (p.pk, p.merged_into_id), "registry.person")

    def retrieve(self, request, pk=None):
        person_id = self.person_id_from(pk)
        person = self.get_queryset().filter(pk=person_id).first() if person_id else None
        if person is None:
            raise Http404
        context = self.get_serializer_context()
        self.log_read("registry.person", [person.pk])
        return Response(self.get_serializer_class()(person, context=context).data)


@extend_schema_view(list=extend_schema(parameters=[PERSON_PARAM]))
class RegistrationViewSet(PartnerViewSet):
    """Registrations at your places that your agreement may see (consent-based agreements:
    only people who consented to partner sharing and did not withdraw)."""

    resource = "registrations"
    serializer_class = RegistrationReadSerializer
    filterset_class = filters.RegistrationFilter
    required_scopes = {"list": PEOPLE}
    queryset = Registration.objects.none()

    def get_queryset(self):
        return Registration.objects.visible_to_agreement(self.agreement).select_related("place")

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        if "person" in request.query_params:
            queryset = queryset.filter(person_id=self.person_id_from(request.query_params["person"]))
        return self.paged_response(queryset, lambda r: (r.person_id,), "registry.registration")


@extend_schema_view(list=extend_schema(parameters=[PERSON_PARAM]))
class EventViewSet(PartnerViewSet):
    """Transit events at your places: head counts and people your agreement may see. Government
    partners with ``events:write`` record events (``Idempotency-Key`` required)."""

    resource = "events"
    serializer_class = EventReadSerializer
    filterset_class = filters.EventFilter
    required_scopes = {"list": (Scope.EVENTS_READ,), "create": (Scope.EVENTS_WRITE,)}
    queryset = TransitEvent.objects.none()
    http_method_names = ["get", "post", "head", "options"]
    cursor_ordering = ("-occurred_at", "-id")

    def get_queryset(self):
        return TransitEvent.objects.visible_to_agreement(self.agreement).select_related("place", "head_count")

    def get_serializer_class(self):
        return EventWriteSerializer if self.action == "create" else EventReadSerializer

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        if "person" in request.query_params:
            queryset = queryset.filter(person_id=self.person_id_from(request.query_params["person"]))
        return self.paged_response(queryset, lambda e: (e.person_id,), "transit.transitevent")

    @extend_schema(
        request=EventWriteSerializer, responses={201: EventReadSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
    )
    def create(self, request):
        agency_id = partner_auth(request).agreement.agency_id
        return idempotency.run_once(request, agency_id, lambda: self._record(request, agency_id))

    def _record(self, request, agency_id) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = transit_services.record_event(request.user, self._event_input(data.validated_data, request, agency_id))
        context = {**self.get_serializer_context(), "allowed_fields": self.agreement.fields_for("events")}
        return Response(EventReadSerializer(event, context=context).data, status=status.HTTP_201_CREATED)

    def _event_input(self, values: dict, request, agency_id) -> transit_services.EventInput:
        place = self.agreement.visible_places().filter(code=values["place"]).first()
        if place is None:
            raise _invalid("place")
        person = None
        if "person" in values:
            person_id = self.person_id_from(values["person"])
            person = Person.objects.visible_to_agreement(self.agreement).filter(pk=person_id).first() if person_id else None
            if person is None:
                raise _invalid("person")
        return transit_services.EventInput(
            place=place, kind=values["kind"], occurred_at=values["occurred_at"], person=person,
            head_count=dict(values["head_count"]) if "head_count" in values else None,
            direction=values.get("direction", ""), mode=values.get("mode", ""), source=Source.API,
            idempotency_key=idempotency.derived_key(agency_id, idempotency.key_from(request)),
        )


def _invalid(field: str):
    from django.utils.translation import gettext as _
    from rest_framework.exceptions import ValidationError

    return ValidationError({field: [_("Unknown or outside your agreement.")]})
