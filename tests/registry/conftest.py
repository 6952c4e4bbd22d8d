"""Shared fixtures of the registry page tests: an agency, two posts, officials, a registration."""

from __future__ import annotations

import pytest

from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person


@pytest.fixture
def agency(db):
    return AgencyFactory(code="inm-test", name="INM prueba")


@pytest.fixture
def place(db):
    return PlaceFactory(code="MXGT-T1", name="Puente de prueba", time_zone="America/Mexico_City")


@pytest.fixture
def other_place(db):
    return PlaceFactory(code="GT-T2", name="Paso lejano", time_zone="America/Guatemala")


@pytest.fixture
def registrar(make_user, place, agency):
    return make_user("registrar", places=[place], agency=agency, username="registradora")


@pytest.fixture
def supervisor(make_user, agency):
    return make_user("supervisor", agency=agency, username="supervisora")


@pytest.fixture
def outsider(make_user, other_place):
    """A registrar of another agency at another post: sees none of the people above."""
    return make_user("registrar", places=[other_place], agency=AgencyFactory(code="igm-test"), username="ajeno")


@pytest.fixture
def registration(registrar, place):
    return register_person(registrar, place, given_names="Ana Lucía", first_surname="Pérez", second_surname="Gómez")
