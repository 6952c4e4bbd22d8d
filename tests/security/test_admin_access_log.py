"""Reads through the admin are logged like reads through the pages (SECURITY.md LG-1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from privacy.models import AccessLog
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def test_admin_change_view_of_a_person_writes_one_access_log_row(make_user, login):
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    person = register_person(registrar, place).person
    admin = make_user("superuser")
    client = login(admin)
    before = AccessLog.objects.count()
    response = client.get(reverse("admin:registry_person_change", args=[person.pk]), HTTP_X_REQUEST_ID="req-admin-1")
    assert response.status_code == 200
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("id")
    assert row.user == admin and row.action == "admin_view"
    assert row.object_ids == [str(person.pk)]
    assert row.ip and row.request_id
