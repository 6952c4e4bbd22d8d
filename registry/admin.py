"""Registry admin: review, verification and correction with history, through the services.

Row visibility is the same as in the pages (``visible_to``); every change view of a person is
written to the access log; workflow actions call the services, never ``save()`` directly.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from privacy.access_log import log_access
from registry import services
from registry.models import (
    DuplicateCandidate,
    IdentityDocument,
    Person,
    Referral,
    Registration,
    RegistrationTransition,
    Vulnerability,
)


class VisibleAdminMixin:
    """Admin lists show exactly what the pages show the same user (``Person.visible_to``)."""

    visible_lookup = "person"  # path from the model to Person; "" for Person itself

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible = Person.objects.visible_to(request.user)
        if not self.visible_lookup:
            return queryset.filter(pk__in=visible.values("pk"))
        return queryset.filter(**{f"{self.visible_lookup}__in": visible.values("pk")})


class DocumentInline(TabularInline):
    model = IdentityDocument
    fields = ("kind", "issuing_country", "expiry_date", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(VisibleAdminMixin, SimpleHistoryAdmin, ModelAdmin):
    visible_lookup = ""
    list_display = ("display_reference", "sex", "birth_year", "nationality", "status", "created_at")
    list_filter = ("status", "sex", "nationality")
    search_fields = ("reference",)
    readonly_fields = ("reference", "status", "merged_into", "version", "created_by", "created_at", "modified_at")
    fields = (
        "reference", "given_names", "first_surname", "second_surname", "sex", "birth_date", "birth_year",
        "birth_precision", "nationality", "country_of_birth", "languages", "status", "merged_into",
        "version", "created_by", "created_at", "modified_at",
    )
    inlines = [DocumentInline]
    history_list_display = ["status"]

    def has_delete_permission(self, request, obj=None):
        return False  # people are never deleted (DESIGN.md rule 6)

    def has_add_permission(self, request):
        return False  # registration happens through the registry pages and services

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            log_access(user=request.user, action="admin_view", object_type="registry.person", object_ids=[obj.pk], request=request)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        changes = {f: form.cleaned_data[f] for f in form.changed_data}
        try:
            services.update_person(request.user, obj, changes, expected_version=obj.version, reason="admin correction")
        except (ValidationError, services.ConflictError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))


class TransitionInline(TabularInline):
    model = RegistrationTransition
    fields = ("from_status", "to_status", "by", "at", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(VisibleAdminMixin, SimpleHistoryAdmin, ModelAdmin):
    list_display = ("person", "place", "agency", "official", "registered_at", "status", "submitted_at")
    list_filter = ("status", "place", "agency", "legal_basis")
    ordering = ("submitted_at",)
    readonly_fields = [f.name for f in Registration._meta.fields if f.name not in ("id",)]
    exclude = ("id",)
    inlines = [TransitionInline]
    actions = ["verify_selected", "request_correction_selected"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def _apply(self, request, queryset, operation, **kwargs):
        done = 0
        for registration in queryset:
            try:
                operation(request.user, registration, **kwargs)
                done += 1
            except (ValidationError, PermissionDenied, services.ConflictError) as exc:
                messages.error(request, f"{registration.person}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}")
        if done:
            messages.success(
                request, ngettext("%(n)d registration updated.", "%(n)d registrations updated.", done) % {"n": done}
            )

    @action(description=_("Verify selected registrations"), permissions=["review"])
    def verify_selected(self, request, queryset):
        self._apply(request, queryset, services.verify, reason="verified in admin")

    @action(description=_("Return selected registrations for correction"), permissions=["review"])
    def request_correction_selected(self, request, queryset):
        self._apply(request, queryset, services.request_correction, reason=str(_("Returned from the admin review")))

    def has_review_permission(self, request):
        return request.user.has_perm("registry.review_registration")


@admin.register(Vulnerability)
class VulnerabilityAdmin(VisibleAdminMixin, SimpleHistoryAdmin, ModelAdmin):
    list_display = ("person", "kind", "unhcr_code", "derived", "is_active", "recorded_at")
    list_filter = ("kind", "derived", "is_active")
    readonly_fields = ("person", "registration", "kind", "unhcr_code", "derived", "recorded_by", "recorded_at")
    exclude = ("details",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(VisibleAdminMixin, SimpleHistoryAdmin, ModelAdmin):
    list_display = ("person", "service", "to_agency", "to_place", "status", "created_at")
    list_filter = ("service", "status")
    readonly_fields = ("person", "registration", "service", "to_agency", "to_place", "created_by", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ModelAdmin):
    list_display = ("person_a", "person_b", "score", "status", "decided_by", "decided_at")
    list_filter = ("status",)
    readonly_fields = ("person_a", "person_b", "score", "reason_labels", "status", "decided_by", "decided_at", "created_at")
    exclude = ("decision_reason", "reasons")  # codes are stored; their translated labels are shown

    def get_queryset(self, request):
        visible = Person.objects.visible_to(request.user)
        return super().get_queryset(request).filter(person_a__in=visible, person_b__in=visible)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The bulk-import page (ImportJob admin) lives with the importer.
from registry.resolution.importer import admin as _import_admin  # noqa: E402,F401
