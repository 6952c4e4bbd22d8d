"""A small synthetic dataset whose report numbers are computed by hand in the tests.

Place A ``MXGT-R1`` (America/Mexico_City) and place B ``GTMX-R2`` (America/Guatemala):

==========  =====  ========================================  =========
local day   place  what                                      direction
==========  =====  ========================================  =========
2026-03-02  A      head count f 18–59: 6, m 18–59: 7, f 0–4: 2  north (15)
2026-03-02  A      head count m 18–59: 9                       south (9)
2026-03-02  B      head count f 18–59: 20 at 23:30 local (UTC next day)  north (20)
2026-03-03  A      three women from GT born 1990 (one pregnant)  north (3)
2026-03-03  B      one boy from HN born 2015                   south (1)
==========  =====  ========================================  =========
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from registry import services as registry_services
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from transit import services as transit_services
from transit.services import EventInput

MX = ZoneInfo("America/Mexico_City")
GT = ZoneInfo("America/Guatemala")
DAY1 = dt.date(2026, 3, 2)
DAY2 = dt.date(2026, 3, 3)
_keys = itertools.count()


@pytest.fixture
def place_a(db):
    return PlaceFactory(code="MXGT-R1", name="Puente Uno", time_zone="America/Mexico_City", state_code="MX-CHP",
                        latitude=14.68, longitude=-92.15)


@pytest.fixture
def place_b(db):
    return PlaceFactory(code="GTMX-R2", name="Puesto Dos", country="GT", state_code="", time_zone="America/Guatemala",
                        latitude=15.2, longitude=-91.9)


@pytest.fixture
def agency(db):
    return AgencyFactory(code="reports-test", name="Agencia reportes")


@pytest.fixture
def recorder(make_user, agency, place_a, place_b):
    """A supervisor posted at both places: records events and registers people."""
    return make_user("supervisor", places=[place_a, place_b], agency=agency)


@pytest.fixture
def analyst(make_user, agency):
    return make_user("analyst", agency=agency)


def record(actor, place, kind="entry", *, at, person=None, head_count=None, direction=""):
    data = EventInput(place=place, kind=kind, person=person, head_count=head_count, occurred_at=at,
                      idempotency_key=f"reports-test-{next(_keys):06d}", direction=direction)
    return transit_services.record_event(actor, data)


def person(actor, place, *, sex="f", nationality="GT", birth_year=1990, at=None):
    data = {"given_names": "Zacarías", "first_surname": "Canario", "sex": sex, "nationality": nationality,
            "birth_precision": "year", "birth_year": birth_year}
    return registry_services.register(actor, place=place, person_data=data, legal_basis="public_interest",
                                      registered_at=at).person


@pytest.fixture
def dataset(recorder, place_a, place_b):
    """The table in the module docstring; returns the people."""
    record(recorder, place_a, at=dt.datetime(2026, 3, 2, 10, tzinfo=MX), direction="north",
           head_count={"f_18_59": 6, "m_18_59": 7, "f_0_4": 2, "nationality": "GT"})
    record(recorder, place_a, "exit", at=dt.datetime(2026, 3, 2, 12, tzinfo=MX), direction="south",
           head_count={"m_18_59": 9, "nationality": "GT"})
    record(recorder, place_b, at=dt.datetime(2026, 3, 2, 23, 30, tzinfo=GT), direction="north",
           head_count={"f_18_59": 20, "nationality": "HN"})
    registered_at = dt.datetime(2026, 3, 3, 9, tzinfo=MX)
    women = [person(recorder, place_a, at=registered_at) for _ in range(3)]
    for index, woman in enumerate(women):
        record(recorder, place_a, at=dt.datetime(2026, 3, 3, 9, index, tzinfo=MX), person=woman, direction="north")
    registry_services.flag(recorder, women[0], "pregnant_lactating", details="Canario detalle")
    boy = person(recorder, place_b, sex="m", nationality="HN", birth_year=2015, at=dt.datetime(2026, 3, 3, 8, tzinfo=GT))
    record(recorder, place_b, "exit", at=dt.datetime(2026, 3, 3, 9, tzinfo=GT), person=boy, direction="south")
    return {"women": women, "boy": boy}
