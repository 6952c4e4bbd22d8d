"""The base template's context: demo and MFA flags, roles, current posts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone

from accounts.context_processors import frontera
from tests.factories.accounts import PostAssignmentFactory
from tests.factories.crossings import PlaceFactory

pytestmark = pytest.mark.django_db


def context_for(user) -> dict:
    request = RequestFactory().get("/")
    request.user = user
    return frontera(request)


def test_flags_follow_settings(settings):
    settings.DEMO_MODE, settings.MFA_REQUIRED = True, False
    context = context_for(AnonymousUser())
    assert context["DEMO_MODE"] is True
    assert context["MFA_REQUIRED"] is False and context["MFA_OFF_BANNER"] is True
    assert list(context["user_roles"]) == [] and list(context["user_posts"]) == []


def test_roles_and_current_posts(make_user, settings):
    settings.MFA_REQUIRED = True
    here, old = PlaceFactory(), PlaceFactory()
    user = make_user("supervisor", places=[here])
    yesterday = timezone.localdate() - timedelta(days=1)
    PostAssignmentFactory(user=user, place=old, starts_on=yesterday - timedelta(days=30), ends_on=yesterday)
    context = context_for(user)
    assert list(context["user_roles"]) == ["supervisor"]
    assert list(context["user_posts"]) == [here]
    assert context["MFA_OFF_BANNER"] is False
