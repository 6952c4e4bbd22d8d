"""The registry's seed_demo step: demo people through the services, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts import demo as accounts_demo
from accounts.models import User
from registry import demo
from registry.models import (
    GroupMembership,
    IdentityDocument,
    Person,
    PersonNameTerm,
    Registration,
    Vulnerability,
)
from registry.vocabulary import RegistrationStatus
from tests.factories.crossings import PlaceFactory

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "people": Person.objects.count(), "registrations": Registration.objects.count(),
        "terms": PersonNameTerm.objects.count(), "documents": IdentityDocument.objects.count(),
        "memberships": GroupMembership.objects.count(), "flags": Vulnerability.objects.count(),
        "history": Person.history.count(),
    }


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True
    settings.DEMO_REGISTRY_HOUSEHOLDS = 12
    return settings


def test_the_step_is_registered_after_the_accounts_step():
    steps = accounts_demo.seed_steps()
    assert demo.seed_registry_demo in steps
    assert steps.index(accounts_demo.seed_demo_accounts) < steps.index(demo.seed_registry_demo)


def test_seed_demo_twice_gives_the_same_counts(demo_mode):
    PlaceFactory(code=accounts_demo.REGISTRAR_PLACE_CODE)
    output = seed()
    assert "registry.demo.seed_registry_demo:" in output
    first = counts()
    assert first["people"] >= 12 and first["registrations"] == first["people"]
    seed()
    assert counts() == first


def test_demo_people_are_made_through_the_services(demo_mode):
    place = PlaceFactory(code=accounts_demo.REGISTRAR_PLACE_CODE)
    seed()
    registrar = User.objects.get(username="registrar")
    registrations = Registration.objects.all()
    assert set(registrations.values_list("place", "official")) == {(place.pk, registrar.pk)}
    # Every person has blind-index terms and a history row by the registrar: no raw inserts.
    assert not Person.objects.filter(name_terms__isnull=True).exists()
    assert Person.history.filter(history_type="+").count() == Person.objects.count()
    assert set(Person.history.filter(history_type="+").values_list("history_user", flat=True)) == {registrar.pk}
    # Families and lone children give derived child-protection flags; some go to review.
    assert GroupMembership.objects.exists()
    assert Vulnerability.objects.filter(derived=True, is_active=True, kind="unaccompanied_child").exists()
    assert registrations.filter(status=RegistrationStatus.SUBMITTED).exists()
    assert all(p.given_names for p in Person.objects.all())


def test_step_is_skipped_without_the_place(demo_mode):
    output = seed()
    assert "skipped" in output
    assert not Person.objects.exists()
