"""Statistics (JSON and HXL CSV), card verification and the partner's webhook endpoint."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from accounts.agreements import Scope
from api import statistics, webhooks
from api.exceptions import PreconditionFailed, PreconditionRequired
from api.models import WebhookEndpoint
from api.serializers.base import StrictBooleanField, StrictInputMixin
from api.serializers.events import PermitVerifyResultSerializer, PermitVerifySerializer
from api.views.base import PartnerViewSet
from privacy.access_log import log_access
from transit import verify

STAT_MIN_DATE, STAT_MAX_DATE = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


class StatisticsQuery(serializers.Serializer):
    """The statistics parameters; dates are bounded so no period overflows (never a 500)."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    period = serializers.ChoiceField(choices=statistics.PERIODS, required=False, default="week")
    place = serializers.CharField(max_length=20, required=False)

    @staticmethod
    def _bounded(value: dt.date) -> dt.date:
        if not STAT_MIN_DATE <= value <= STAT_MAX_DATE:
            raise serializers.ValidationError(
                _("Give a date from %(lo)s to %(hi)s.") % {"lo": STAT_MIN_DATE, "hi": STAT_MAX_DATE}
            )
        return value

    def validate_date_from(self, value: dt.date) -> dt.date:
        return self._bounded(value)

    def validate_date_to(self, value: dt.date) -> dt.date:
        return self._bounded(value)

    def validate(self, attrs):
        today = timezone.localdate()
        attrs.setdefault("date_to", today)
        attrs.setdefault("date_from", attrs["date_to"] - dt.timedelta(days=29))
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_from": [_("Must not be after date_to.")]})
        if (attrs["date_to"] - attrs["date_from"]).days >= settings.REPORT_MAX_DAYS:
            raise serializers.ValidationError({"date_from": [_("The period is too long.")]})
        return attrs


STAT_PARAMS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE), OpenApiParameter("date_to", OpenApiTypes.DATE),
    OpenApiParameter("period", OpenApiTypes.STR, enum=list(statistics.PERIODS)),
    OpenApiParameter("place", OpenApiTypes.STR, description="A place code of your agreement."),
]
STAT_ROW = inline_serializer("StatisticsRow", many=True, fields={
    "period": serializers.DateField(), "place": serializers.CharField(), "adm1": serializers.CharField(),
    "nationality": serializers.CharField(),
    "counts": serializers.DictField(child=serializers.IntegerField(allow_null=True)),
    "suppressed": serializers.ListField(child=serializers.CharField()),
})


class StatisticsViewSet(PartnerViewSet):
    """People seen at your places by period × place × nationality × sex × age bracket; counts
    under ``SMALL_CELL_K`` are suppressed (null in JSON, ``<k`` in the HXL CSV)."""

    required_scopes = {"list": (Scope.STATS_READ,), "hxl": (Scope.STATS_READ,)}
    extra_params = {"date_from": "", "date_to": "", "period": "", "place": ""}
    pagination_class = None
    queryset = WebhookEndpoint.objects.none()  # no model of its own; keeps the schema generator quiet

    def check_query_params(self, request) -> None:
        for name, values in request.query_params.lists():
            if name not in self.extra_params or len(values) > 1 or any("\x00" in v for v in values):
                raise exceptions.ValidationError({name: [_("Unknown, repeated or invalid query parameter.")]})

    def _rows(self, request):
        query = StatisticsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        places = self.agreement.visible_places()
        if "place" in query.validated_data:
            places = places.filter(code=query.validated_data["place"])
        values = query.validated_data
        rows = statistics.compute(list(places.values_list("pk", flat=True)), values["date_from"], values["date_to"], values["period"])
        log_access(user=request.user, action="export", object_type="api.statistics", object_ids=[],
                   purpose=self.agreement.purpose, request=request, agreement=self.agreement)
        return rows

    @extend_schema(parameters=STAT_PARAMS, responses=STAT_ROW)
    def list(self, request):
        rows = self._rows(request)
        return Response([
            {"period": r.period, "place": r.place, "adm1": r.adm1, "nationality": r.nationality,
             "counts": r.published(), "suppressed": sorted(r.suppressed)} for r in rows
        ])

    @extend_schema(parameters=STAT_PARAMS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def hxl(self, request):
        response = HttpResponse(statistics.to_hxl_csv(self._rows(request)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="frontera-statistics-hxl.csv"'
        return response


class PermitVerifyViewSet(PartnerViewSet):
    """Check a visitor card's QR token: signature, validity and the registry's current status."""

    required_scopes = {"create": (Scope.PERMITS_VERIFY,)}
    http_method_names = ["post", "options"]
    serializer_class = PermitVerifySerializer

    @extend_schema(request=PermitVerifySerializer, responses=PermitVerifyResultSerializer)
    def create(self, request):
        data = PermitVerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = verify.check_online(data.validated_data["token"])
        claims = result.claims if result.outcome != "forged" else None
        log_access(user=request.user, action="view", object_type="transit.permit", object_ids=[],
                   purpose=self.agreement.purpose, request=request, agreement=self.agreement)
        return Response({"status": result.outcome, "kind": getattr(claims, "kind", None),
                         "valid_from": getattr(claims, "valid_from", None), "valid_until": getattr(claims, "valid_until", None)})


class WebhookEndpointWrite(StrictInputMixin, serializers.Serializer):
    url = serializers.URLField(max_length=500)
    is_active = StrictBooleanField(required=False, default=True)

    def validate_url(self, value: str) -> str:
        if not webhooks.url_allowed(value):
            raise serializers.ValidationError(_("Use an https URL."))
        return value


class WebhookEndpointRead(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ("url", "is_active", "version", "modified_at")
        read_only_fields = fields


def etag(endpoint: WebhookEndpoint) -> str:
    return f'"{endpoint.pk}-{endpoint.version}"'


class WebhookEndpointViewSet(PartnerViewSet):
    """Your agency's webhook endpoint. ``PUT`` creates it (201, the signing secret is shown
    once) or replaces it (200; send ``If-Match`` with the ETag you read: stale → 412)."""

    required_scopes = {"retrieve": (Scope.WEBHOOKS,), "update": (Scope.WEBHOOKS,)}
    http_method_names = ["get", "put", "head", "options"]
    serializer_class = WebhookEndpointWrite

    def _current(self):
        return WebhookEndpoint.objects.select_for_update().filter(agreement=self.agreement).first()

    @extend_schema(responses=WebhookEndpointRead)
    def retrieve(self, request):
        endpoint = WebhookEndpoint.objects.filter(agreement=self.agreement).first()
        if endpoint is None:
            raise exceptions.NotFound()
        return Response(WebhookEndpointRead(endpoint).data, headers={"ETag": etag(endpoint)})

    @extend_schema(request=WebhookEndpointWrite, responses={200: WebhookEndpointRead, 201: WebhookEndpointRead})
    def update(self, request):
        data = WebhookEndpointWrite(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = self._current()
        if endpoint is None:
            secret = webhooks.new_secret()
            endpoint = WebhookEndpoint.objects.create(agreement=self.agreement, secret=secret, **data.validated_data)
            body = {**WebhookEndpointRead(endpoint).data, "secret": secret}
            return Response(body, status=status.HTTP_201_CREATED, headers={"ETag": etag(endpoint)})
        self._check_if_match(request, endpoint)
        endpoint.url, endpoint.is_active = data.validated_data["url"], data.validated_data["is_active"]
        endpoint.version += 1
        endpoint.save()
        return Response(WebhookEndpointRead(endpoint).data, headers={"ETag": etag(endpoint)})

    @staticmethod
    def _check_if_match(request, endpoint) -> None:
        sent = request.headers.get("If-Match")
        if not sent:
            raise PreconditionRequired()
        if sent.strip() != etag(endpoint):
            raise PreconditionFailed()
