"""django-filter sets with explicit fields only. Each filter names the resource field it reads
(``FIELD_OF``): a filter on a field outside the agreement is refused (400), never an oracle.

Every value is validated before it reaches the database (a 400 problem detail naming the
parameter, never a 500): times must be ISO 8601 with an offset of at most ±14:00 and a year
from 1900 to 9998 (PostgreSQL refuses larger offsets, Python overflows near year 1 and 9999);
years and codes are bounded; choices come from the model.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crossings.models import Place
from registry.models import Person, Registration
from transit.models import TransitEvent

MAX_OFFSET = dt.timedelta(hours=14)  # the widest real offsets are UTC-12:00 and UTC+14:00
MIN_YEAR, MAX_YEAR = 1900, 9998


class AwareDateTimeField(forms.Field):
    """An ISO 8601 time with its UTC offset, returned in UTC; anything else is invalid."""

    default_error_messages = {
        "invalid": _("Enter an ISO 8601 date and time with its offset, e.g. 2026-05-01T10:00:00-06:00."),
        "naive": _("Include the time zone offset, e.g. 2026-05-01T10:00:00-06:00."),
        "offset": _("The time zone offset must be between -14:00 and +14:00."),
        "range": _("The year must be between %(min)s and %(max)s."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            parsed = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        offset = parsed.utcoffset()
        if offset is None:
            raise forms.ValidationError(self.error_messages["naive"], code="naive")
        if abs(offset) > MAX_OFFSET:
            raise forms.ValidationError(self.error_messages["offset"], code="offset")
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise forms.ValidationError(
                self.error_messages["range"], code="range", params={"min": MIN_YEAR, "max": MAX_YEAR}
            )
        return parsed.astimezone(dt.UTC)


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` (documented as ``date-time``) with ``AwareDateTimeField``'s checks."""

    field_class = AwareDateTimeField


class YearFilter(django_filters.NumberFilter):
    """A whole year between 1900 and 2100 (``1.5``, ``1e400`` and ``NaN`` are refused)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", 2100)
        super().__init__(*args, **kwargs)


def _code_filter(field_name: str, max_length: int) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, max_length=max_length)


class PlaceFilter(django_filters.FilterSet):
    modified_after = AwareDateTimeFilter(field_name="modified_at", lookup_expr="gt")
    code = _code_filter("code", 20)
    country = _code_filter("country", 2)
    FIELD_OF = {"category": "category", "kind": "kind", "country": "country", "code": "code",
                "modified_after": "modified_at"}

    class Meta:
        model = Place
        fields = ["category", "kind"]


class PersonFilter(django_filters.FilterSet):
    modified_after = AwareDateTimeFilter(field_name="modified_at", lookup_expr="gt")
    nationality = _code_filter("nationality", 2)
    birth_year = YearFilter(field_name="birth_year")
    FIELD_OF = {"sex": "sex", "nationality": "nationality", "birth_year": "birth_year", "modified_after": "modified_at"}

    class Meta:
        model = Person
        fields = ["sex"]


class RegistrationFilter(django_filters.FilterSet):
    modified_after = AwareDateTimeFilter(field_name="modified_at", lookup_expr="gt")
    place = _code_filter("place__code", 20)
    FIELD_OF = {"place": "place", "status": "status", "modified_after": "modified_at", "person": "person"}

    class Meta:
        model = Registration
        fields = ["status"]


class EventFilter(django_filters.FilterSet):
    place = _code_filter("place__code", 20)
    occurred_after = AwareDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = AwareDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    # Events are append-only: incremental sync reads the time they were recorded.
    created_after = AwareDateTimeFilter(field_name="created_at", lookup_expr="gt")
    FIELD_OF = {"place": "place", "kind": "kind", "occurred_after": "occurred_at", "occurred_before": "occurred_at",
                "created_after": "created_at", "person": "person"}

    class Meta:
        model = TransitEvent
        fields = ["kind"]
