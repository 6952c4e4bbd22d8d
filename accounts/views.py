"""Sign in, sign out, password change and the two-factor steps (SECURITY.md AU-1, AU-2, SE-1).

Login is Django's ``LoginView`` (so django-axes sees every attempt through the authentication
backend and signals). After the password, ``RequireMFAMiddleware`` keeps the session on the
two-factor pages until a code is verified; the verify step rotates the session key.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import mfa, security_events
from accounts.forms import (
    BackupCodesConfirmForm,
    LoginForm,
    OTPOrBackupCodeForm,
    OTPTokenForm,
    PasswordConfirmForm,
)
from accounts.middleware import mfa_required, mfa_step_url, session_is_verified
from accounts.session_views import after_credential_change
from accounts.sessions import end_other_sessions

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def safe_next(request: HttpRequest) -> str:
    """The ``next`` parameter if it points inside this site, else the post-login page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Password step. The same message and page for an unknown user and a wrong password."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = False

    def get_success_url(self) -> str:
        """Straight on to the two-factor step when it is required (keeping ``next``)."""
        url = super().get_success_url()
        if mfa_required() and not session_is_verified(self.request):
            return mfa_step_url(self.request.user, url)
        return url


@never_cache
@csrf_protect
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only. Ends the session and asks the browser to drop cache, cookies and storage."""
    auth_logout(request)
    response = render(request, "accounts/logged_out.html")
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (this session stays valid; its key is rotated by Django).

    Every other session of the user ends (SE-3): Django's session hash check would refuse them
    anyway, so they are deleted now and the count is shown rather than offered as a choice.
    """

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        ended = end_other_sessions(self.request, reason="password_changed")
        security_events.record(security_events.Kind.PASSWORD_CHANGED, request=self.request, sessions_ended=ended)
        if ended:
            messages.info(self.request, ngettext(
                "%(count)d other session was ended.", "%(count)d other sessions were ended.", ended
            ) % {"count": ended})
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@method_decorator([never_cache, login_required, sensitive_post_parameters("otp_token")], name="dispatch")
class MFASetupView(View):
    """Enrol an authenticator app: QR code and base32 key, confirmed by a first valid code."""

    template_name = "accounts/otp_setup.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # A second device may only be added from an already verified session: otherwise a stolen
        # password would be enough to enrol the thief's phone. (Backup codes alone, e.g. after an
        # admin removed the authenticator, are not an enrolment.)
        if mfa.has_authenticator(request.user):
            if session_is_verified(request):
                messages.info(request, _("Two-factor authentication is already set up."))
                return redirect(safe_next(request))
            return redirect("accounts:mfa_verify")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, OTPTokenForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OTPTokenForm(request.POST)
        if form.is_valid():
            device = mfa.confirm_enrolment(request, form.cleaned_data["otp_token"])
            if device is not None:
                mfa.mark_verified(request, device)
                codes = mfa.issue_backup_codes(request.user, request=request)
                messages.success(request, _("Two-factor authentication is now on."))
                # Shown in this response only: the codes are never kept in the session.
                return render_new_backup_codes(request, codes, after_credential_change(request, safe_next(request)))
            form.add_error("otp_token", _("That code is not valid. Check your phone’s clock and try the current code."))
        return self.render(request, form)

    def render(self, request: HttpRequest, form: OTPTokenForm) -> HttpResponse:
        device = mfa.pending_device(request)
        context = {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "secret": mfa.base32_secret(device),
            "next": safe_next(request),
        }
        return render(request, self.template_name, context)


@method_decorator([never_cache, login_required, sensitive_post_parameters("otp_token")], name="dispatch")
class MFAVerifyView(View):
    """The second step after the password: a code from a confirmed device."""

    template_name = "accounts/otp_verify.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not mfa.has_authenticator(request.user):
            return redirect("accounts:mfa_setup")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, OTPOrBackupCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OTPOrBackupCodeForm(request.POST)
        if form.is_valid():
            token = form.cleaned_data["otp_token"]
            wait = mfa.throttle_wait_seconds(request.user, token)
            device = None if wait else mfa.verify_user_token(request.user, token)
            if device is not None:
                mfa.mark_verified(request, device)
                if isinstance(device, StaticDevice):
                    self.after_backup_code(request)
                return HttpResponseRedirect(safe_next(request))
            form.add_error("otp_token", self.failure_message(wait))
        return self.render(request, form)

    @staticmethod
    def after_backup_code(request: HttpRequest) -> None:
        """Record the use; point to replacing a lost phone; with few codes left, tell the user
        to make a new set."""
        remaining = mfa.record_backup_code_use(request.user, request)
        messages.info(request, _("Lost your phone? You can replace your authenticator from Backup codes, in your account menu."))
        if remaining <= mfa.BACKUP_CODES_LOW:
            messages.warning(request, ngettext(
                "You signed in with a backup code. You have %(count)d backup code left: "
                "generate a new set now (Backup codes, in your account menu).",
                "You signed in with a backup code. You have %(count)d backup codes left: "
                "generate a new set now (Backup codes, in your account menu).",
                remaining,
            ) % {"count": remaining})

    @staticmethod
    def failure_message(wait: int) -> str:
        """Say so when django-otp's back-off refused the attempt; otherwise one generic message."""
        if wait:
            return ngettext(
                "Too many wrong codes. Wait %(seconds)d second and try again.",
                "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                wait,
            ) % {"seconds": wait}
        return _("That code is not valid or was already used. Enter the current code.")

    def render(self, request: HttpRequest, form: OTPTokenForm) -> HttpResponse:
        return render(request, self.template_name, {"form": form, "next": safe_next(request)})


def render_new_backup_codes(request: HttpRequest, codes: list[str], continue_url: str) -> HttpResponse:
    """The one time a set of backup codes is shown (no-store: never cached, never shown again)."""
    context = {"codes": [mfa.format_backup_code(code) for code in codes], "continue_url": continue_url}
    response = render(request, "accounts/backup_codes_new.html", context)
    response["Cache-Control"] = "no-store"
    return response


@method_decorator([never_cache, login_required, sensitive_post_parameters("password")], name="dispatch")
class MFAReplaceView(View):
    """A lost or new phone: from a session already verified (a backup code does), the password
    again removes the old authenticator and the user enrols the new one (backup codes are kept)."""

    template_name = "accounts/otp_replace.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not mfa.has_authenticator(request.user):
            return redirect("accounts:mfa_setup")
        if not session_is_verified(request):
            return redirect("accounts:mfa_verify")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, PasswordConfirmForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PasswordConfirmForm(request.POST)
        if form.is_valid():
            if mfa.confirm_identity(request, password=form.cleaned_data["password"]):
                mfa.remove_authenticators(request.user)
                messages.info(request, _("Your old authenticator no longer works. Scan this code with the new phone."))
                return redirect("accounts:mfa_setup")
            form.add_error("password", _("The password is not correct. Nothing was changed."))
        return self.render(request, form)

    def render(self, request: HttpRequest, form: PasswordConfirmForm) -> HttpResponse:
        response = render(request, self.template_name, {"form": form})
        response["Cache-Control"] = "no-store"
        return response


@method_decorator([never_cache, login_required, sensitive_post_parameters("otp_token", "password")], name="dispatch")
class BackupCodesView(View):
    """How many backup codes are left; POST (with a current code or the password) makes a new set.

    Old codes are never shown again: only the response to the POST that made them shows codes.
    """

    template_name = "accounts/backup_codes.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and not mfa.has_authenticator(request.user):
            messages.info(request, _("Set up two-step verification first; backup codes come with it."))
            return redirect("accounts:mfa_setup")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, BackupCodesConfirmForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BackupCodesConfirmForm(request.POST)
        if form.is_valid():
            otp_token = form.cleaned_data["otp_token"]
            if mfa.confirm_identity(request, otp_token=otp_token, password=form.cleaned_data["password"]):
                codes = mfa.issue_backup_codes(request.user, request=request)
                messages.success(request, _("New backup codes were made. Your earlier codes no longer work."))
                return render_new_backup_codes(request, codes, reverse("accounts:mfa_backup_codes"))
            wait = mfa.throttle_wait_seconds(request.user, otp_token) if otp_token else 0
            form.add_error(None, MFAVerifyView.failure_message(wait) if wait else _(
                "That code or password is not correct. No new codes were made."
            ))
        return self.render(request, form)

    def render(self, request: HttpRequest, form: BackupCodesConfirmForm) -> HttpResponse:
        context = {"form": form, "remaining": mfa.backup_codes_remaining(request.user)}
        response = render(request, self.template_name, context)
        response["Cache-Control"] = "no-store"
        return response
