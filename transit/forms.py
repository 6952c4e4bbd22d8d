"""Forms for posts and permits. Forms only parse input; the rules live in transit.services."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from crossings.models import Place
from transit.permit_rules import PERMIT_RULES, PermitKind
from transit.vocabulary import (
    AGE_BRACKETS,
    HEAD_COUNT_SEXES,
    Direction,
    EventKind,
    Mode,
    count_field,
)

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def post_places(user):
    """The places a user may record at: their posts today (admins: every active place)."""
    if user.has_role("admin"):
        return Place.objects.active()
    return Place.objects.filter(pk__in=user.current_place_ids())


def aware_in_place(value: dt.datetime | None, place: Place | None) -> dt.datetime | None:
    """A wall-clock time typed at a post, read in the post's own time zone (never the server's)."""
    if value is None or place is None:
        return None
    return value.replace(tzinfo=ZoneInfo(place.time_zone))


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time kept naive: the post's zone, not the server's, is applied later."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        try:
            return dt.datetime.strptime(str(value).strip(), LOCAL_INPUT)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class PlaceTimeForm(forms.Form):
    """Where and when: defaults are the official's post and now."""

    place = forms.ModelChoiceField(label=_("Place"), queryset=Place.objects.none(), empty_label=None)
    occurred_at = LocalDateTimeField(
        label=_("Time (local time at the place; empty for now)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=[("", "—"), *Direction.choices], required=False)
    mode = forms.ChoiceField(label=_("Mode"), choices=[("", "—"), *Mode.choices], required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = post_places(user)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def event_time(self) -> dt.datetime | None:
        return aware_in_place(self.cleaned_data.get("occurred_at"), self.cleaned_data.get("place"))


class LookupForm(forms.Form):
    """What the scanner typed: a card token from the QR code, or a person reference."""

    place = forms.UUIDField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(
        label=_("Scan the card or type the reference"), max_length=400, strip=True,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "autocapitalize": "characters",
                                      "placeholder": _("e.g. 7KQ3-M9XD-4")}),
    )


class MovementForm(PlaceTimeForm):
    """One tap: entry or exit of the confirmed person."""

    person = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=EventKind.choices, widget=forms.HiddenInput)
    scanned = forms.BooleanField(required=False, widget=forms.HiddenInput)


class HeadCountForm(PlaceTimeForm):
    """Anonymous flow monitoring: counts per sex × age bracket, nationality if known."""

    kind = forms.ChoiceField(label=_("Movement"), choices=EventKind.choices, initial=EventKind.ENTRY)
    nationality = CountryField(blank=True).formfield(label=_("Nationality (if known)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for sex, sex_label in HEAD_COUNT_SEXES:
            for bracket, bracket_label in AGE_BRACKETS:
                self.fields[count_field(sex, bracket)] = forms.IntegerField(
                    label=f"{sex_label} {bracket_label}", min_value=0, max_value=10_000, required=False,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "form-control text-end"}),
                )

    def grid(self):
        """Rows of (sex label, [bound fields per bracket]) for the table layout."""
        return [(label, [self[count_field(sex, b)] for b, _bl in AGE_BRACKETS]) for sex, label in HEAD_COUNT_SEXES]

    def counts(self) -> dict:
        cells = {name: self.cleaned_data.get(name) or 0 for name in self.fields if name[:2] in ("f_", "m_", "x_")}
        return {**cells, "nationality": self.cleaned_data.get("nationality") or ""}


class IssuePermitForm(forms.Form):
    kind = forms.ChoiceField(label=_("Card"), choices=PermitKind.choices)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until (empty: the longest the card allows)"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def rules(self):
        return [(PermitKind(kind).label, rule) for kind, rule in PERMIT_RULES.items()]


class PermitStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[("suspended", _("Suspend")), ("active", _("Reinstate")), ("revoked", _("Revoke"))],
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class OverstayFilterForm(forms.Form):
    place = forms.ModelChoiceField(label=_("Place of entry"), queryset=Place.objects.all(), required=False)
    nationality = CountryField(blank=True).formfield(label=_("Nationality"), required=False)
    min_days = forms.IntegerField(label=_("At least days over"), min_value=0, max_value=3650, required=False)


class CorridorForm(forms.Form):
    days = forms.IntegerField(label=_("Within days"), min_value=1, max_value=90, initial=14)
    since = forms.DateField(label=_("Entries from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Entries until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
