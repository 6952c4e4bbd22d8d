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


@pytest.mark.smoke
@pytest.mark.django_db
def test_login_page_renders_in_spanish(client):
    response = client.get(reverse("accounts:login"), secure=True)
    assert response.status_code == 200
    assert 'lang="es"' in response.content.decode()


@pytest.mark.smoke
@pytest.mark.django_db
def test_demo_seed_registers_people_and_tasks_run_in_process(settings, login, django_capture_on_commit_callbacks):
    """What `make run` does: reference data, the synthetic demo through the services, and the
    outbox's duplicate scan run in-process (no broker); then a registrar finds a demo person."""
    from privacy.models import OutboxMessage
    from registry.models import Person, PersonNameTerm
    from transit.models import TransitEvent

    settings.DEMO_REGISTRY_HOUSEHOLDS = 4
    assert settings.CELERY_TASK_ALWAYS_EAGER
    call_command("load_reference_data", verbosity=0)
    with django_capture_on_commit_callbacks(execute=True):  # as when seed_demo's transaction commits
        call_command("seed_demo", force=True, verbosity=0)
    person = Person.objects.order_by("created_at").first()
    assert person is not None and PersonNameTerm.objects.filter(person=person).exists()
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()
    assert TransitEvent.objects.exists()
    from accounts.models import User
    from tests.factories.accounts import confirmed_totp

    registrar = User.objects.get(username="registrar")
    confirmed_totp(registrar)  # the demo runs with MFA off; the tests keep it on
    response = login(registrar).get(reverse("registry:search"), {"q": person.first_surname})
    assert response.status_code == 200
    assert person.display_reference in response.content.decode()
