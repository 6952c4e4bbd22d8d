"""Forms for signing in and the two-factor steps (rendered with crispy-forms, Bootstrap 5)."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

OTP_WIDGET_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "pattern": "[0-9]*",
    "maxlength": "8",
    "autofocus": True,
}


class LoginForm(AuthenticationForm):
    """Django's form: one message for an unknown user, a wrong password or an inactive account."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not correct. Both fields may be case-sensitive."),
        "inactive": _("The username or password is not correct. Both fields may be case-sensitive."),
    }


class OTPTokenForm(forms.Form):
    """The six-digit code from the authenticator app (or a backup code)."""

    otp_token = forms.CharField(
        label=_("Verification code"),
        max_length=16,
        strip=True,
        widget=forms.TextInput(attrs=OTP_WIDGET_ATTRS),
        help_text=_("The code your authenticator app shows now."),
    )

    def clean_otp_token(self) -> str:
        """Spaces are allowed for readability ("123 456"); digits are what is checked."""
        return self.cleaned_data["otp_token"].replace(" ", "")


# A TOTP code (six digits) or a backup code (lowercase base32), after spaces and hyphens are
# dropped and letters lowered. ASCII only: ``str.isdigit`` would also accept "١٢٣٤٥٦".
TOTP_CODE = re.compile(r"[0-9]{6}")
BACKUP_CODE = re.compile(r"[a-z2-7]{8,16}")

CODE_WIDGET_ATTRS = {
    "autocomplete": "one-time-code",
    "autocapitalize": "none",
    "autocorrect": "off",
    "spellcheck": "false",
    "maxlength": "24",
    "autofocus": True,
}


class OTPOrBackupCodeForm(forms.Form):
    """The sign-in step: the six-digit code from the app, or one of the user's backup codes."""

    otp_token = forms.CharField(
        label=_("Verification code"),
        max_length=24,
        strip=True,
        widget=forms.TextInput(attrs=CODE_WIDGET_ATTRS),
        help_text=_("The code your authenticator app shows now, or one of your backup codes."),
    )

    def clean_otp_token(self) -> str:
        """Spaces and hyphens are ignored ("123 456", "abcde-fghij"); letters are lowered."""
        token = re.sub(r"[ \t-]", "", self.cleaned_data["otp_token"])
        token = token.lower() if token.isascii() else ""  # "\u212a".lower() == "k": ASCII first
        if not (TOTP_CODE.fullmatch(token) or BACKUP_CODE.fullmatch(token)):
            raise forms.ValidationError(
                _("Enter the six digits from your app or a backup code."), code="invalid_format"
            )
        return token


class PasswordConfirmForm(forms.Form):
    """The password again, before a step that changes how the user signs in."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class BackupCodesConfirmForm(forms.Form):
    """Before new backup codes are made: a current code from the app, or the password."""

    otp_token = forms.CharField(
        label=_("Current code from your authenticator app"),
        max_length=16,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={**OTP_WIDGET_ATTRS, "autofocus": False}),
    )
    password = forms.CharField(
        label=_("Or your password"),
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_otp_token(self) -> str:
        token = self.cleaned_data["otp_token"].replace(" ", "")
        if token and not TOTP_CODE.fullmatch(token):
            raise forms.ValidationError(_("Enter the six digits your app shows."), code="invalid_format")
        return token

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("otp_token") and not cleaned.get("password"):
            raise forms.ValidationError(
                _("Enter a current code from your app or your password."), code="required"
            )
        return cleaned
