"""Demo seed: synthetic accounts, idempotent, demo mode only, extensible by other apps."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from accounts import demo, roles
from accounts.models import Agency, PostAssignment, User
from tests.factories.crossings import PlaceFactory

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    users = User.objects.order_by("username").values_list(
        "id", "username", "first_name", "last_name", "password", "is_staff", "is_superuser", "agency_id"
    )
    groups = User.groups.through.objects.order_by("id").values_list("user_id", "group_id")
    return {
        "agencies": list(Agency.objects.order_by("code").values_list("id", "code", "name", "kind", "country")),
        "users": list(users),
        "groups": list(groups),
        "posts": list(PostAssignment.objects.order_by("id").values_list("user_id", "place_id", "starts_on")),
    }


def seed(**kwargs) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        seed()
    assert not User.objects.filter(username__in=demo.DEMO_USERS).exists()


def test_force_runs_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    seed(force=True)
    assert User.objects.filter(username__in=demo.DEMO_USERS).count() == len(roles.ROLES)


def test_seed_twice_changes_nothing(settings):
    settings.DEMO_MODE = True
    PlaceFactory(code=demo.REGISTRAR_PLACE_CODE)
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


def test_seeded_accounts(settings):
    settings.DEMO_MODE = True
    place = PlaceFactory(code=demo.REGISTRAR_PLACE_CODE)
    seed()
    assert set(Agency.objects.values_list("code", flat=True)) >= {"inm", "igm", "acnur", "oim", "la72"}
    for role in roles.ROLES:
        user = User.objects.get(username=role)
        assert user.role_names == [role]
        assert user.first_name and user.last_name
        assert user.check_password(demo.DEMO_PASSWORD)
    admin_user = User.objects.get(username=roles.ADMIN)
    assert admin_user.is_staff and admin_user.is_superuser
    assert not User.objects.get(username=roles.REGISTRAR).is_staff
    assert User.objects.get(username=roles.REGISTRAR).current_place_ids() == [place.pk]


def test_registrar_without_reference_place_has_no_post(settings):
    settings.DEMO_MODE = True
    seed()
    assert not PostAssignment.objects.exists()


def test_demo_password_meets_the_policy(settings):
    settings.DEMO_MODE = True
    seed()
    validate_password(demo.DEMO_PASSWORD, User.objects.get(username=roles.REGISTRAR))


def test_other_apps_can_add_steps(settings):
    settings.DEMO_MODE = True
    calls = []

    def extra_step() -> str:
        calls.append(User.objects.filter(username=roles.REGISTRAR).exists())
        return "extra done"

    demo.register_seed_step(extra_step)
    demo.register_seed_step(extra_step)  # registering twice runs it once
    try:
        output = seed()
    finally:
        demo.SEED_STEPS.remove(extra_step)
    assert calls == [True]  # after the accounts step
    assert "extra done" in output


def test_demo_logins_prints_users_and_password(settings):
    settings.DEMO_MODE = True
    seed()
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert demo.DEMO_PASSWORD in text
    assert all(role in text for role in roles.ROLES)


def test_demo_logins_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("demo_logins", stdout=StringIO())
