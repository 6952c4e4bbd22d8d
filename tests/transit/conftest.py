"""Fixtures for transit: posts in Mexico and Guatemala, officials by role, people, cards."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from registry import services as registry_services
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory, TransitPointFactory
from transit import services
from transit.services import EventInput

MX = ZoneInfo("America/Mexico_City")
GT = ZoneInfo("America/Guatemala")
_keys = itertools.count()


@pytest.fixture
def agency(db):
    return AgencyFactory(code="inm-test", name="INM prueba")


@pytest.fixture
def crossing(db):
    return PlaceFactory(code="MXGT-T1", name="Puente de prueba", time_zone="America/Mexico_City", state_code="MX-CHP")


@pytest.fixture
def gt_post(db):
    return PlaceFactory(code="GTMX-T1", name="Puesto Tecún Umán", country="GT", state_code="", time_zone="America/Guatemala",
                        latitude=14.67, longitude=-92.14)


@pytest.fixture
def shelter(db):
    return TransitPointFactory(code="SH-T1", name="Albergue de prueba", latitude=16.2, longitude=-93.9)


@pytest.fixture
def supervisor(make_user, agency, crossing, gt_post, shelter):
    return make_user("supervisor", places=[crossing, gt_post, shelter], agency=agency)


@pytest.fixture
def registrar(make_user, agency, crossing):
    return make_user("registrar", places=[crossing], agency=agency)


def make_person(actor, place, *, nationality="GT", given="Ana", surname="López"):
    data = {"given_names": given, "first_surname": surname, "sex": "f", "nationality": nationality,
            "birth_precision": "year", "birth_year": 1990}
    return registry_services.register(actor, place=place, person_data=data, legal_basis="public_interest").person


@pytest.fixture
def person(supervisor, crossing):
    return make_person(supervisor, crossing)


def key() -> str:
    return f"test-key-{next(_keys):06d}"


def record(actor, place, kind, person=None, *, at=None, head_count=None, idem=None, **extra):
    """Record through the service with a fresh idempotency key."""
    data = EventInput(place=place, kind=kind, person=person, head_count=head_count, occurred_at=at,
                      idempotency_key=idem or key(), **extra)
    return services.record_event(actor, data)


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
