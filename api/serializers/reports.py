"""Report runs: the request (kind + parameters, checked again by ``reports.params.validate``)
and the run as a partner reads it (status, progress, files with download links)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictInputMixin
from reports.models import ReportFormat, ReportKind, ReportRun, ReportStatus
from reports.params import GROUPINGS


class ReportParametersWrite(StrictInputMixin, serializers.Serializer):
    """Dates are local days (inclusive); ``places`` are place codes of your agreement (none:
    all of them); ``formats`` among those the kind offers."""

    date_from = serializers.DateField()
    date_to = serializers.DateField()
    places = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list, max_length=200)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=ReportFormat.choices), min_length=1, max_length=len(ReportFormat.choices)
    )
    grouping = serializers.ChoiceField(choices=GROUPINGS, required=False, default="place")
    language = serializers.ChoiceField(choices=[code for code, _name in settings.LANGUAGES], required=False)


class ReportRunWrite(StrictInputMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    parameters = ReportParametersWrite()


class ReportFileRead(serializers.Serializer):
    format = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    row_count = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        path = reverse("v1:report-run-file", kwargs={"pk": obj.run_id, "fmt": obj.format})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ReportRunRead(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    error = serializers.CharField(source="error_message", read_only=True)

    class Meta:
        model = ReportRun
        fields = (
            "id", "kind", "parameters", "status", "progress", "row_count", "suppressed_cells", "data_version",
            "error", "created_at", "started_at", "finished_at", "files",
        )
        read_only_fields = fields

    @extend_schema_field(ReportFileRead(many=True))
    def get_files(self, obj) -> list[dict]:
        # Files are listed once the run is done (a run being rebuilt has none yet).
        files = list(obj.files.all()) if obj.status == ReportStatus.DONE else []
        return ReportFileRead(files, many=True, context=self.context).data
