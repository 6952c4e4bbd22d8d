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
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

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
