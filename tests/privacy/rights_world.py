"""Shared set-up for the rights, erasure and retention tests: a place, an agency, users by role
and one synthetic person registered through the registry's services (never raw inserts)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import DataSharingAgreement
from registry import services as registry_services
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

CANARY_GIVEN = "Canaria Ñandú"
CANARY_SURNAME = "Xocoyotzin"
CURP = "GODE561231HDFRRN09"  # a synthetic CURP with a valid check digit (python-stdnum)
_seq = itertools.count()


@dataclass
class World:
    place: object
    agency: object
    registrar: object
    supervisor: object
    dpo: object
    person: object
    registration: object


def make_world(
    make_user, *, consent=("partner_sharing",), legal_basis="consent", **identity
) -> World:
    n = next(_seq)
    place = PlaceFactory(
        code=f"RGT-{n:03d}", name=f"Puente de prueba {n}", time_zone="America/Mexico_City"
    )
    agency = AgencyFactory(code=f"inm-rights-{n}")
    registrar = make_user("registrar", places=[place], agency=agency)
    supervisor = make_user("supervisor", agency=agency)
    dpo = make_user("data_protection", agency=agency)
    registration = register_person(
        registrar,
        place,
        given_names=identity.pop("given_names", CANARY_GIVEN),
        first_surname=identity.pop("first_surname", CANARY_SURNAME),
        legal_basis=legal_basis,
        consent_purposes=list(consent),
        **identity,
    )
    registry_services.submit(registrar, registration)
    return World(place, agency, registrar, supervisor, dpo, registration.person, registration)


def make_agreement(
    agency, places, *, legal_basis="consent", scopes=("persons:read:pseudonymous", "webhooks")
):
    today = timezone.localdate()
    agreement = DataSharingAgreement.objects.create(
        reference=f"dsa-rights-{next(_seq)}",
        agency=agency,
        purpose="Protección",
        legal_basis=legal_basis,
        scopes=list(scopes),
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=365),
    )
    agreement.places.set(places)
    return agreement


def partner_agency(kind="un"):
    return AgencyFactory(code=f"partner-{next(_seq)}", kind=kind, country="")
