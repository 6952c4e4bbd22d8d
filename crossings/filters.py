"""The place list filter, shared by the page (and by the API if it lists places)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crossings.models import Place

COUNTRY_CHOICES = [("MX", _("Mexico")), ("GT", _("Guatemala"))]
OFFICIAL_CHOICES = [("true", _("Official")), ("false", _("Informal / not a crossing"))]


def state_choices() -> list[tuple[str, str]]:
    """The ISO 3166-2 state codes present in the table (reference data decides the list)."""
    codes = Place.objects.exclude(state_code="").values_list("state_code", flat=True).distinct()
    return [(code, code) for code in sorted(codes)]


class PlaceFilter(django_filters.FilterSet):
    """Filters of the place list: text, category, kind, official, country, state, status."""

    q = django_filters.CharFilter(method="search", label=_("Search code or name"))
    category = django_filters.ChoiceFilter(choices=Place.Category.choices, label=_("Category"))
    kind = django_filters.ChoiceFilter(choices=Place.Kind.choices, label=_("Kind"))
    official = django_filters.TypedChoiceFilter(
        field_name="is_official",
        choices=OFFICIAL_CHOICES,
        coerce=lambda value: value == "true",
        label=_("Official"),
    )
    country = django_filters.ChoiceFilter(choices=COUNTRY_CHOICES, label=_("Country"))
    state = django_filters.ChoiceFilter(field_name="state_code", choices=[], label=_("State"))
    status = django_filters.ChoiceFilter(choices=Place.Status.choices, label=_("Status"))

    class Meta:
        model = Place
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["state"].extra["choices"] = state_choices()

    def search(self, queryset, name, value):
        """Case- and accent-insensitive enough for codes and names: icontains on each."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(name__icontains=value)
            | Q(name_other_side__icontains=value)
            | Q(locality__icontains=value)
        )
