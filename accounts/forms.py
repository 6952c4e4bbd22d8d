"""Forms for signing in and the two-factor steps (rendered with crispy-forms, Bootstrap 5)."""

from __future__ import annotations

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
