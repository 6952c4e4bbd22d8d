"""Report runs for partners with ``reports:read``: request one (aggregate kinds only, at the
places of the agreement), follow its progress, download its files.

The rules live in the reports app: ``reports.params.validate`` (kind, period, places of the
agreement, formats), ``reports.services.request_report`` (daily limit, an identical report
over unchanged data gives back the existing run) and ``ReportRun.objects.visible_to`` (the
runs of the agency's clients; anything else is 404).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from accounts.agreements import Scope
from api import idempotency
from api.serializers.reports import ReportRunRead, ReportRunWrite
from api.views.base import PartnerViewSet
from reports import params as report_params
from reports import services as report_services
from reports.models import ReportFile, ReportRun

PARAMETER_FIELDS = ("date_from", "date_to", "places", "formats", "grouping", "language")
READ = (Scope.REPORTS_READ,)


def _problem(error: DjangoValidationError) -> exceptions.APIException:
    """The reports app's field errors as field paths of the request body (``parameters.places``)."""
    if not hasattr(error, "error_dict"):
        if getattr(error, "code", "") == "limit":
            return exceptions.Throttled(detail=" ".join(error.messages))
        return exceptions.ValidationError({"non_field_errors": error.messages})
    return exceptions.ValidationError({
        (f"parameters.{name}" if name in PARAMETER_FIELDS else name): messages
        for name, messages in error.message_dict.items()
    })


class ReportRunViewSet(PartnerViewSet):
    """Aggregate reports of your agreement's places. ``POST`` answers 202 while the run is
    queued or running and 200 when an identical report over unchanged data is already done."""

    required_scopes = {"list": READ, "retrieve": READ, "create": READ, "file": READ}
    http_method_names = ["get", "post", "head", "options"]
    serializer_class = ReportRunRead
    queryset = ReportRun.objects.none()
    filterset_class = None
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self):
        return ReportRun.objects.visible_to(self.request.user).prefetch_related("files")

    def get_serializer_class(self):
        return ReportRunWrite if self.action == "create" else ReportRunRead

    def _run(self, pk) -> ReportRun:
        try:
            return self.get_queryset().get(pk=pk)
        except (ReportRun.DoesNotExist, DjangoValidationError, ValueError) as exc:
            raise Http404 from exc

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReportRunRead(page, many=True, context=self.get_serializer_context()).data)

    def retrieve(self, request, pk=None):
        return Response(ReportRunRead(self._run(pk), context=self.get_serializer_context()).data)

    @extend_schema(
        request=ReportRunWrite, responses={200: ReportRunRead, 202: ReportRunRead},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
    )
    def create(self, request):
        return idempotency.run_once(request, self.agreement.agency_id, lambda: self._request(request))

    def _request(self, request) -> Response:
        data = ReportRunWrite(data=request.data)
        data.is_valid(raise_exception=True)
        kind, values = data.validated_data["kind"], data.validated_data["parameters"]
        try:
            params = report_params.validate(request.user, kind, **values)
            run = report_services.request_report(request.user, kind, params)
        except DjangoValidationError as exc:
            raise _problem(exc) from exc
        except DjangoPermissionDenied as exc:  # validate already refuses it; kept as a backstop
            raise exceptions.ValidationError({"kind": [str(exc)]}) from exc
        code = status.HTTP_200_OK if run.status == "done" else status.HTTP_202_ACCEPTED
        return Response(ReportRunRead(run, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["csv", "xlsx", "pdf", "hxl"])],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The report file.")},
    )
    def file(self, request, pk=None, fmt=None):
        run = self._run(pk)
        report_file = ReportFile.objects.filter(run=run, format=fmt, run__status="done").first()
        if report_file is None:
            raise Http404
        return report_services.download(request.user, report_file, request, agreement=self.agreement)
