"""Admin for users, agencies and posts (django-unfold), and the admin site's own MFA gate.

The admin has no login of its own: ``/admin/login/`` redirects to ``accounts:login`` (password,
then the TOTP step), and every admin page requires an active, staff, OTP-verified user when
``settings.MFA_REQUIRED`` is on. ``RequireMFAMiddleware`` enforces the same in front of it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts import mfa
from accounts.middleware import session_is_verified
from accounts.models import Agency, PostAssignment, User
from accounts.views import logout_view


# --- The admin site: no separate login, OTP required ---------------------------------------------
def admin_has_permission(request: HttpRequest) -> bool:
    """Active staff, and (when MFA is enforced) a session that passed the OTP step."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return not getattr(settings, "MFA_REQUIRED", True) or session_is_verified(request)


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's login is ours: password, then TOTP. ``next`` is kept."""
    url = reverse("accounts:login")
    next_path = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{url}?{urlencode({'next': next_path})}")


def admin_logout(request: HttpRequest, extra_context=None) -> HttpResponse:
    """Sign out as everywhere else (POST only, Clear-Site-Data)."""
    return logout_view(request)


admin.site.has_permission = admin_has_permission
admin.site.login = admin_login
admin.site.logout = admin_logout


# --- Models --------------------------------------------------------------------------------------
class PostAssignmentInline(TabularInline):
    model = PostAssignment
    extra = 0
    fields = ("place", "starts_on", "ends_on", "is_primary")
    autocomplete_fields = ()
    raw_id_fields = ("place",)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    """Users with their agency, roles (groups) and posts."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    inlines = (PostAssignmentInline,)
    list_display = ("username", "first_name", "last_name", "agency", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "agency", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    list_select_related = ("agency",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "preferred_language")}),
        (_("Organisation and roles"), {"fields": ("agency", "groups")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "agency", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Users are deactivated, never deleted: their name stays on the history and access-log
        rows they authored, which are append-only in the database (SECURITY.md LG-3)."""
        return False


@admin.register(Agency)
class AgencyAdmin(ModelAdmin):
    """Partner organisations; their names and codes are also banned in passwords."""

    list_display = ("name", "code", "kind", "country", "is_active")
    list_filter = ("kind", "is_active", "country")
    search_fields = ("name", "code")


@admin.register(PostAssignment)
class PostAssignmentAdmin(ModelAdmin):
    """Who works where, and when."""

    list_display = ("user", "place", "starts_on", "ends_on", "is_primary")
    list_filter = ("is_primary",)
    search_fields = ("user__username", "place__code", "place__name")
    list_select_related = ("user", "place")
    raw_id_fields = ("user", "place")


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    """Roles are groups; their permissions are synced from accounts/roles.py on migrate."""


# --- Sessions, security events, breach register (SECURITY.md SE-3, LG-5) -------------------------
from qsessions.admin import ExpiredFilter  # noqa: E402  (appended section)
from qsessions.models import Session  # noqa: E402

from accounts import sessions as session_service  # noqa: E402
from accounts.models import BreachRecord, SecurityEvent  # noqa: E402

SECURITY_READERS = ("admin", "auditor")


def _is_admin(request: HttpRequest) -> bool:
    return request.user.has_role("admin")


@admin.action(description=_("End all sessions of the selected users"))
def end_all_sessions(modeladmin, request: HttpRequest, queryset) -> None:
    """The admin kill switch: every session of every selected user, database and cache."""
    ended = sum(session_service.end_sessions(user, reason="admin", request=request) for user in queryset)
    modeladmin.message_user(
        request, ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended) % {"count": ended}
    )


@admin.action(description=_("Reset two-factor authentication (authenticator and backup codes)"))
def reset_mfa(modeladmin, request: HttpRequest, queryset) -> None:
    """Lost phone: remove every MFA device of the selected users (the authenticator app and the
    backup codes), so each enrols again at the next sign-in. Verified sessions lose their device
    and must pass the (new) second step again."""
    removed = sum(mfa.remove_all_devices(user) for user in queryset)
    modeladmin.message_user(
        request,
        ngettext("%(count)d two-factor device removed.", "%(count)d two-factor devices removed.", removed)
        % {"count": removed},
    )


UserAdmin.actions = (*(UserAdmin.actions or ()), end_all_sessions, reset_mfa)

admin.site.unregister(Session)


@admin.register(Session)
class SessionAdmin(ModelAdmin):
    """Who is signed in, from where. Read-only list; end them with the users' action.

    The session key is the primary key, so it would appear in row links and action checkboxes:
    anyone reading the page (or a script injected into it) could take the session over. Rows
    therefore have no links and no actions; sessions end through "End all sessions" on users.
    """

    list_display = ("user", "ip", "device", "created_at", "updated_at", "expire_date")
    list_display_links = None
    list_filter = (ExpiredFilter, "user__agency")
    search_fields = ("user__username", "ip")
    list_select_related = ("user",)
    ordering = ("-updated_at",)
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _is_admin(request) and obj is None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyForSecurityRoles:
    """View for admins and auditors; nobody changes or deletes (the tables are append-only)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_role(*SECURITY_READERS)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_role(*SECURITY_READERS)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyForSecurityRoles, ModelAdmin):
    """Logins, lockouts, MFA, denials and alerts (written by accounts.security_events)."""

    list_display = ("at", "kind", "user", "ip", "path")
    list_filter = ("kind",)
    search_fields = ("user__username", "ip", "request_id")
    list_select_related = ("user",)
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BreachRecord)
class BreachRecordAdmin(ReadOnlyForSecurityRoles, ModelAdmin):
    """The breach register: admins add entries; corrections are new entries."""

    list_display = ("detected_at", "reported_to_authority_at", "recorded_by", "recorded_at")
    fields = ("detected_at", "facts", "effects", "remedial_action", "reported_to_authority_at")
    list_select_related = ("recorded_by",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def save_model(self, request: HttpRequest, obj: BreachRecord, form, change: bool) -> None:
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


# --- Partner API: agreements and clients (SECURITY.md DP-2, AU-4) --------------------------------
from simple_history.admin import SimpleHistoryAdmin  # noqa: E402

from accounts.models import DataSharingAgreement, PartnerClient  # noqa: E402


@admin.register(DataSharingAgreement)
class DataSharingAgreementAdmin(SimpleHistoryAdmin, ModelAdmin):
    """Agreements are admin-managed and versioned; suspending one cuts its clients at once."""

    list_display = ("reference", "agency", "legal_basis", "status", "valid_from", "valid_until")
    list_filter = ("status", "legal_basis", "agency")
    search_fields = ("reference", "agency__name", "agency__code")
    filter_horizontal = ("places",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request) and super().has_module_permission(request)


@admin.register(PartnerClient)
class PartnerClientAdmin(SimpleHistoryAdmin, ModelAdmin):
    """Clients are created with ``manage.py create_partner_client``; here they are narrowed
    (scopes take effect on the next request, even for tokens already issued) or revoked."""

    list_display = ("application", "agreement", "scopes", "expires_at", "revoked_at", "created_at")
    list_filter = ("agreement__agency",)
    readonly_fields = ("application", "agreement", "service_user", "created_at")
    fields = (
        "application", "agreement", "service_user", "scopes", "allowed_ips", "expires_at", "revoked_at", "created_at"
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
