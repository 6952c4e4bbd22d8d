"""Lets pages of lower layers (the registry person page) show a journey without importing
transit: the template asks for it, the registry's Python code never does."""

from django import template

from transit.journeys import journey_for

register = template.Library()


@register.simple_tag
def journey_of(person):
    """The ordered timeline and map data of a person the caller has already scoped and logged."""
    return journey_for(person)
