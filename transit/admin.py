"""Admin review of events and permits, with history. Nothing is deleted here, and status
changes of permits go through the service (a reason is required)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin

from transit import services
from transit.models import Permit, TransitEvent


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin, ModelAdmin):
    """Review only: rows are written by services, never typed in the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TransitEvent)
class TransitEventAdmin(ReadOnlyHistoryAdmin):
    list_display = ("occurred_at", "kind", "place", "person", "source", "flag")
    list_filter = ("kind", "source", "flag", "place")
    date_hierarchy = "occurred_at"
    list_select_related = ("place", "person")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Permit)
class PermitAdmin(ReadOnlyHistoryAdmin):
    list_display = ("number", "kind", "person", "valid_from", "valid_until", "status")
    list_filter = ("kind", "status")
    search_fields = ("number",)
    exclude = ("status_reason",)
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.action(description=_("Revoke the selected cards (a reason is required)"), permissions=["revoke"])
    def revoke(self, request, queryset):
        form = RevokeForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            context = {**self.admin_site.each_context(request), "form": form, "permits": queryset, "title": _("Revoke cards")}
            return render(request, "transit/admin_revoke.html", context)
        for permit in queryset:
            try:
                services.revoke_permit(request.user, permit, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                messages.error(request, f"{permit.number}: {' '.join(sum(exc.message_dict.values(), []))}")
        return redirect(request.get_full_path())

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("transit.revoke_permit")
