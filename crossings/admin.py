"""Admin for places (Unfold theme). Reference rows come from load_reference_data; edit with care."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from crossings.models import Place


@admin.register(Place)
class PlaceAdmin(ModelAdmin):
    """Places: searchable by code and name, filtered by category, kind, status and confidence."""

    list_display = ("code", "name", "category", "kind", "is_official", "state_code", "status", "coord_confidence")
    list_filter = ("category", "kind", "is_official", "country", "status", "coord_confidence")
    search_fields = ("code", "name", "name_other_side", "locality")
    ordering = ("category", "code")
    readonly_fields = ("id", "created_at", "modified_at")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("code", "name", "category", "kind", "is_official", "status", "hours", "operator")}),
        (_("Location"), {"fields": ("country", "state_code", "locality", "municipality", "time_zone")}),
        (
            _("Other side"),
            {"fields": ("name_other_side", "other_side_locality", "other_side_municipality", "other_side_department")},
        ),
        (_("Coordinates"), {"fields": ("latitude", "longitude", "coord_confidence", "coord_basis")}),
        (_("Notes and sources"), {"fields": ("notes", "sources")}),
        (_("Record"), {"fields": ("id", "created_at", "modified_at")}),
    )

    def get_queryset(self, request):
        """The same row visibility as every other surface (DESIGN.md rule 3)."""
        return Place.objects.visible_to(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        """Events and registrations point at places: retire a place (status closed), never delete it."""
        return False
