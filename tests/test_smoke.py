"""The SQLite smoke set: the embedded default loads places and serves the place list."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from crossings.models import Place


@pytest.mark.smoke
@pytest.mark.django_db
def test_reference_data_and_place_list(make_user, login):
    call_command("load_reference_data", verbosity=0)
    assert Place.objects.crossings().filter(is_official=True).count() == 8
    response = login(make_user("registrar")).get(reverse("crossings:list"))
    assert response.status_code == 200
    assert "MXGT-08" in response.content.decode()
