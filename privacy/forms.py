"""Forms of the rights register pages. Rules live in ``privacy.rights.services``; these only
collect input and show the services' errors next to their fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.models import RequesterKind, RequestStatus, RightKind
from registry.forms import PersonEditForm, apply_service_errors  # noqa: F401 - re-exported for the views

PII = {"autocomplete": "off", "spellcheck": "false"}


def _blank(choices):
    return [("", "---------"), *choices]


class RightsRequestForm(forms.Form):
    """A new request: whose data (by the reference on their receipt or card), which right, who
    asked and how their identity was checked."""

    person_reference = forms.CharField(
        label=_("Person's reference"),
        max_length=20,
        help_text=_("As printed on the receipt or the card."),
        widget=forms.TextInput(attrs={**PII, "autocapitalize": "characters"}),
    )
    right = forms.ChoiceField(label=_("Right exercised"), choices=_blank(RightKind.choices))
    requester = forms.ChoiceField(
        label=_("Requested by"),
        choices=RequesterKind.choices,
        widget=forms.RadioSelect,
        initial=RequesterKind.SUBJECT,
    )
    representative_name = forms.CharField(
        label=_("Representative's name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=PII),
    )
    identity_check = forms.CharField(
        label=_("How identity was checked"),
        max_length=1000,
        help_text=_(
            "e.g. passport shown in person; power of attorney checked against the representative's ID."
        ),
        widget=forms.Textarea(attrs={**PII, "rows": 2}),
    )
    details = forms.CharField(
        label=_("What is asked"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={**PII, "rows": 3}),
    )
    received_on = forms.DateField(
        label=_("Received on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def received_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("received_on")
        if day is None or day == timezone.localdate():
            return None  # now
        return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={**PII, "rows": 2})
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={**PII, "rows": 2}),
    )


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=_blank(RequestStatus.choices), required=False
    )
    right = forms.ChoiceField(label=_("Right"), choices=_blank(RightKind.choices), required=False)
