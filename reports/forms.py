"""Report request and dashboard filter forms. Both delegate the rules to ``reports.params``."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crossings.models import Place
from reports import params as report_params
from reports.kinds import KINDS
from reports.models import ReportFormat, ReportKind


def _place_choices():
    return [(code, f"{code} · {name}") for code, name in Place.objects.order_by("code").values_list("code", "name")]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportRequestForm(forms.Form):
    """Kind, period, places, grouping and formats. Every kind is listed in the field so that a
    kind the user may not run gets a clear error rather than "not a valid choice"."""

    kind = forms.ChoiceField(label=_("Report"), choices=ReportKind.choices)
    date_from = forms.DateField(label=_("From"), widget=DateInput())
    date_to = forms.DateField(label=_("To"), widget=DateInput())
    places = forms.MultipleChoiceField(label=_("Places (none: all)"), required=False,
                                       widget=forms.SelectMultiple(attrs={"size": 6}))
    grouping = forms.ChoiceField(label=_("Grouping"), choices=[("place", _("By place")), ("all", _("All places together"))])
    formats = forms.MultipleChoiceField(label=_("Formats"), choices=ReportFormat.choices,
                                        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["places"].choices = _place_choices()
        self.params: report_params.ReportParams | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.params = report_params.validate(
                self.user, data["kind"], date_from=data["date_from"], date_to=data["date_to"],
                places=data.get("places") or (), formats=data.get("formats") or (), grouping=data["grouping"],
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data

    @staticmethod
    def initial_for(kind: str = ReportKind.DAILY_FLOWS) -> dict:
        today = timezone.localdate()
        return {"kind": kind, "date_from": today - dt.timedelta(days=30), "date_to": today, "grouping": "place",
                "formats": list(KINDS[kind].formats[:2])}


class DashboardFilterForm(forms.Form):
    """Period and one optional place; the same period limit as the reports."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    place = forms.ChoiceField(label=_("Place"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", _("All places")), *_place_choices()]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["date_to"] = data.get("date_to") or today
        data["date_from"] = data.get("date_from") or data["date_to"] - dt.timedelta(days=89)
        for field, message in report_params._period_errors(data["date_from"], data["date_to"]).items():
            self.add_error(field, message)
        data["place_obj"] = Place.objects.filter(code=data.get("place")).first() if data.get("place") else None
        return data
