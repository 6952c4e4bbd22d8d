"""Report runs in the admin: read-only records (schedules are edited under Periodic tasks)."""

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from reports.models import ReportFile, ReportRun


class ReportFileInline(TabularInline):
    model = ReportFile
    extra = 0
    can_delete = False
    readonly_fields = ("format", "storage_name", "size", "sha256", "row_count", "created_at")


@admin.register(ReportRun)
class ReportRunAdmin(ModelAdmin):
    list_display = ("kind", "status", "progress", "trigger", "requested_by", "created_at", "finished_at")
    list_filter = ("kind", "status", "trigger")
    readonly_fields = [f.name for f in ReportRun._meta.fields]
    inlines = [ReportFileInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
