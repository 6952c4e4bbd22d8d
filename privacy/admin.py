"""Admin for the access log: read-only for everyone, superusers included."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from privacy.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(ModelAdmin):
    """Auditors browse and filter the log; no one can add, edit or delete an entry."""

    list_display = (
        "at",
        "action",
        "object_type",
        "object_count",
        "user",
        "agency",
        "agreement_ref",
        "request_id",
    )
    list_filter = ("action", "object_type", "at")
    search_fields = ("request_id", "agreement_ref")
    date_hierarchy = "at"
    list_select_related = ("user", "agency")
    show_full_result_count = False  # COUNT(*) over a large append-only table is slow

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
