"""Registry test data, always created THROUGH the services (never raw inserts of people).

``register_person(actor, place, **identity)`` is the one way tests make a person: it runs
``registry.services.register`` so names are validated, encrypted, indexed, versioned and an
outbox row is written, exactly as in real use.
"""

from __future__ import annotations

import datetime as dt
import uuid

import factory
from django.utils import timezone

from registry import services
from registry.models import Registration
from registry.vocabulary import BirthPrecision, LegalBasis


class IdentityFactory(factory.DictFactory):
    """Raw identity input as a form or the API would send it (synthetic names)."""

    given_names = factory.Faker("first_name", locale="es_MX")
    first_surname = factory.Faker("last_name", locale="es_MX")
    second_surname = factory.Faker("last_name", locale="es_MX")
    sex = "f"
    nationality = "GT"
    birth_precision = BirthPrecision.EXACT
    birth_date = dt.date(1990, 5, 17)


def identity(**overrides) -> dict:
    """An identity dict; ``birth_precision`` overrides drop the default exact date."""
    data = IdentityFactory()
    if overrides.get("birth_precision") not in (None, BirthPrecision.EXACT):
        data.pop("birth_date")
    data.update(overrides)
    return data


def born_years_ago(years: int, days: int = 30) -> dt.date:
    """A date of birth making the person ``years`` old today (a bit past the birthday)."""
    today = timezone.localdate()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday - dt.timedelta(days=days)


def register_person(
    actor, place, *, legal_basis: str = LegalBasis.PUBLIC_INTEREST, registered_at: dt.datetime | None = None,
    submission_token: uuid.UUID | None = None, consent_purposes: list[str] | None = None, **identity_fields,
) -> Registration:
    """Register a person through ``services.register``; identity fields override the defaults."""
    return services.register(
        actor, place=place, person_data=identity(**identity_fields), registered_at=registered_at,
        legal_basis=legal_basis, consent_purposes=consent_purposes, submission_token=submission_token,
    )


class RegistrationFactory(factory.Factory):
    """factory_boy front end over ``register_person``: ``RegistrationFactory(actor=u, place=p)``."""

    class Meta:
        model = Registration

    actor = None
    place = None

    @classmethod
    def _create(cls, model_class, *args, actor=None, place=None, **kwargs):
        if actor is None or place is None:
            raise TypeError("RegistrationFactory needs actor= and place=")
        return register_person(actor, place, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("Registrations are only created through registry.services.register")


def submitted(actor, registration: Registration) -> Registration:
    """A registration moved to review by its official."""
    return services.submit(actor, registration)
