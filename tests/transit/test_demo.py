"""The transit demo step: movements, cards and head counts through the services, once."""

import pytest
from django.core.management import call_command

from transit.models import HeadCount, Permit, TransitEvent


@pytest.mark.django_db
def test_seed_demo_records_movements_once(settings):
    settings.DEMO_REGISTRY_HOUSEHOLDS = 6
    call_command("load_reference_data", verbosity=0)
    call_command("seed_demo", force=True, verbosity=0)
    events, head_counts, cards = TransitEvent.objects.count(), HeadCount.objects.count(), Permit.objects.count()
    assert TransitEvent.objects.filter(person__isnull=False, kind="entry").exists()
    assert head_counts >= 3 * 30
    assert TransitEvent.objects.filter(kind="boarding", mode="train").exists() or events > head_counts
    call_command("seed_demo", force=True, verbosity=0)
    assert (TransitEvent.objects.count(), HeadCount.objects.count(), Permit.objects.count()) == (events, head_counts, cards)
