"""Person.objects.visible_to(user): the one row-visibility rule for people, per role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import PostAssignment
from registry.models import Person, Registration
from tests.factories.accounts import AgencyFactory, PostAssignmentFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person


@pytest.fixture
def world(make_user):
    """Agency INM registers at post A, agency IGM at post B; one person each."""
    inm, igm = AgencyFactory(code="inm-t"), AgencyFactory(code="igm-t")
    post_a, post_b = PlaceFactory(), PlaceFactory()
    official_a = make_user("registrar", places=[post_a], agency=inm)
    official_b = make_user("registrar", places=[post_b], agency=igm)
    at_a = register_person(official_a, post_a, given_names="Ana").person
    at_b = register_person(official_b, post_b, given_names="Berta").person
    return {
        "inm": inm, "igm": igm, "post_a": post_a, "post_b": post_b,
        "official_a": official_a, "official_b": official_b, "at_a": at_a, "at_b": at_b,
    }


def visible(user) -> set:
    return set(Person.objects.visible_to(user).values_list("pk", flat=True))


def test_registrar_sees_people_registered_at_their_post_only(world):
    assert visible(world["official_a"]) == {world["at_a"].pk}
    assert visible(world["official_b"]) == {world["at_b"].pk}


def test_registrar_at_the_same_post_from_another_agency_sees_them(world, make_user):
    colleague = make_user("registrar", places=[world["post_a"]], agency=world["igm"])
    assert visible(colleague) == {world["at_a"].pk}


def test_registrar_loses_sight_when_the_posting_ends(world):
    PostAssignment.objects.filter(user=world["official_a"]).update(
        starts_on=timezone.localdate() - dt.timedelta(days=30), ends_on=timezone.localdate() - dt.timedelta(days=1)
    )
    assert visible(world["official_a"]) == set()


def test_registrar_with_a_future_posting_sees_nothing_yet(world, make_user):
    newcomer = make_user("registrar", agency=world["inm"])
    PostAssignmentFactory(user=newcomer, place=world["post_a"], starts_on=timezone.localdate() + dt.timedelta(days=3))
    assert visible(newcomer) == set()


def test_registrar_posted_at_two_places_sees_both(world, make_user):
    roving = make_user("registrar", places=[world["post_a"], world["post_b"]], agency=world["inm"])
    assert visible(roving) == {world["at_a"].pk, world["at_b"].pk}


def test_supervisor_sees_their_agencys_people_wherever_registered(world, make_user):
    supervisor = make_user("supervisor", agency=world["inm"])
    assert visible(supervisor) == {world["at_a"].pk}
    # An INM registration at post B also becomes visible to the INM supervisor.
    elsewhere = register_person(supervisor, world["post_b"], given_names="Carla").person
    assert visible(supervisor) == {world["at_a"].pk, elsewhere.pk}
    assert elsewhere.pk in visible(world["official_b"])  # and to whoever works at post B


def test_supervisor_without_agency_sees_nobody(world, make_user):
    supervisor = make_user("supervisor", agency=world["inm"])
    supervisor.agency = None
    supervisor.save()
    assert visible(supervisor) == set()


@pytest.mark.parametrize("role", ["analyst", "auditor", None])
def test_analyst_auditor_and_roleless_see_no_identified_person(world, make_user, role):
    user = make_user(role, places=[world["post_a"]], agency=world["inm"])
    assert visible(user) == set()


def test_admin_sees_everyone(world, make_user):
    admin = make_user("admin", agency=world["inm"])
    assert visible(admin) == {world["at_a"].pk, world["at_b"].pk}
    superuser = make_user("superuser")
    assert visible(superuser) == {world["at_a"].pk, world["at_b"].pk}


@pytest.mark.parametrize("role", ["registrar", "supervisor", "admin"])
def test_inactive_user_sees_nobody(world, make_user, role):
    user = make_user(role, places=[world["post_a"]], agency=world["inm"])
    user.is_active = False
    user.save()
    assert visible(user) == set()


def test_anonymous_sees_nobody(world):
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser()) == set()


def test_erased_people_are_hidden_except_from_admins(world, make_user):
    Person.objects.filter(pk=world["at_a"].pk).update(status="erased")
    supervisor = make_user("supervisor", agency=world["inm"])
    admin = make_user("admin", agency=world["inm"])
    assert visible(world["official_a"]) == set()
    assert visible(supervisor) == set()
    assert world["at_a"].pk in visible(admin)


def test_registrations_follow_the_people_rule(world, make_user):
    supervisor = make_user("supervisor", agency=world["igm"])
    rows = set(Registration.objects.visible_to(supervisor).values_list("person_id", flat=True))
    assert rows == {world["at_b"].pk}
