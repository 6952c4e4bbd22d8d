"""Synthetic demo people for ``seed_demo``: families, lone children, near-duplicates.

Everything goes through the registry services, never raw inserts, so the demo exercises the same
rules, encryption, indexes and history as real use. Names come from Faker (es_MX and other
Spanish locales); nobody here is a real person. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.utils import timezone
from faker import Faker

from accounts import roles
from accounts.demo import REGISTRAR_PLACE_CODE, register_seed_step
from registry import services
from registry.models import Person, Registration
from registry.vocabulary import BirthPrecision, LegalBasis, Purpose, Relationship, VulnerabilityKind

NATIONALITIES = ["GT", "GT", "GT", "HN", "HN", "SV", "NI", "MX", "VE", "HT"]
DEMO_MARKER_PURPOSES = [Purpose.TRANSIT, Purpose.ASYLUM, Purpose.WORK, Purpose.FAMILY]


def valid_cui(rng: random.Random) -> str:
    """A syntactically valid synthetic Guatemalan CUI (verifier digit right, real department)."""
    from registry.validators import _GT_MUNICIPALITIES

    while True:
        body = "".join(str(rng.randint(0, 9)) for _ in range(8))
        verifier = sum(int(d) * (i + 2) for i, d in enumerate(body)) % 11
        if verifier < 10:
            department = rng.randint(1, len(_GT_MUNICIPALITIES))
            municipality = rng.randint(1, _GT_MUNICIPALITIES[department - 1])
            return f"{body}{verifier}{department:02d}{municipality:02d}"


class DemoPeople:
    """Builds the demo population with one registrar (the actor) at one place."""

    def __init__(self, registrar, place, *, seed: int = 2026):
        self.registrar = registrar
        self.place = place
        self.rng = random.Random(seed)
        self.fake = Faker(["es_MX", "es_ES", "es_CO"])
        self.fake.seed_instance(seed)
        self.today = timezone.localdate()

    def _birth(self, age: int) -> dict:
        born = self.today - dt.timedelta(days=age * 365 + self.rng.randint(0, 364))
        if self.rng.random() < 0.15:
            return {"birth_precision": BirthPrecision.ESTIMATED, "age": age}
        if self.rng.random() < 0.1:
            return {"birth_precision": BirthPrecision.YEAR, "birth_year": born.year}
        return {"birth_precision": BirthPrecision.EXACT, "birth_date": born}

    def _identity(self, age: int, nationality: str, surnames: tuple[str, str] | None = None) -> dict:
        sex = self.rng.choice(["f", "m"])
        given = self.fake.first_name_female() if sex == "f" else self.fake.first_name_male()
        first, second = surnames or (self.fake.last_name(), self.fake.last_name())
        return {
            "given_names": given, "first_surname": first, "second_surname": second, "sex": sex,
            "nationality": nationality, "country_of_birth": nationality,
            "languages": ["spa"] + (["mam"] if nationality == "GT" and self.rng.random() < 0.2 else []),
            **self._birth(age),
        }

    def register(self, identity: dict) -> Registration:
        registration = services.register(
            self.registrar, place=self.place, person_data=identity,
            registered_at=timezone.now() - dt.timedelta(days=self.rng.randint(0, 60), minutes=self.rng.randint(0, 600)),
            legal_basis=LegalBasis.PUBLIC_INTEREST if self.rng.random() < 0.6 else LegalBasis.CONSENT,
            consent_purposes=["protection_referral"] if self.rng.random() < 0.7 else [],
        )
        services.update_details(
            self.registrar, registration, {"purpose": self.rng.choice(DEMO_MARKER_PURPOSES), "destination_country": "US"},
            expected_version=registration.version,
        )
        if identity["nationality"] == "GT" and self.rng.random() < 0.5:
            services.add_document(self.registrar, registration.person, kind="dpi", number=valid_cui(self.rng), issuing_country="GT")
        return registration

    def family(self) -> list[Registration]:
        nationality = self.rng.choice(NATIONALITIES)
        surnames = (self.fake.last_name(), self.fake.last_name())
        head = self.register(self._identity(self.rng.randint(22, 50), nationality, surnames))
        membership = services.add_to_group(self.registrar, head.person, relationship=Relationship.HEAD)
        members = [head]
        for _ in range(self.rng.randint(1, 3)):
            child = self.register(self._identity(self.rng.randint(1, 16), nationality, (surnames[0], self.fake.last_name())))
            services.add_to_group(self.registrar, child.person, relationship=Relationship.CHILD, group=membership.group)
            members.append(child)
        return members

    def lone_child(self) -> Registration:
        registration = self.register(self._identity(self.rng.randint(13, 17), self.rng.choice(NATIONALITIES)))
        services.refresh_child_protection(self.registrar, registration.person)
        return registration

    def near_duplicate(self, original: Person) -> Registration:
        """The same person written differently: accents dropped, surnames swapped, or a year off."""
        identity = {
            "given_names": original.given_names.replace("é", "e").replace("á", "a").replace("í", "i"),
            "first_surname": original.second_surname or original.first_surname,
            "second_surname": original.first_surname if original.second_surname else "",
            "sex": original.sex, "nationality": str(original.nationality),
            "birth_precision": BirthPrecision.YEAR, "birth_year": original.birth_year,
        }
        return self.register(identity)

    def build(self, households: int = 80) -> int:
        created: list[Registration] = []
        for _ in range(households):
            created.extend(self.family() if self.rng.random() < 0.6 else [self.register(self._identity(self.rng.randint(18, 70), self.rng.choice(NATIONALITIES)))])
        for _ in range(max(3, households // 10)):
            created.append(self.lone_child())
        for original in self.rng.sample([r.person for r in created], k=max(3, households // 10)):
            created.append(self.near_duplicate(original))
        for registration in self.rng.sample(created, k=len(created) // 5):
            if self.rng.random() < 0.3:
                services.flag(self.registrar, registration.person, self.rng.choice([VulnerabilityKind.PREGNANT_LACTATING, VulnerabilityKind.SERIOUS_MEDICAL, VulnerabilityKind.EXTORTION_KIDNAPPING]))
            services.submit(self.registrar, registration)
        return len(created)


def seed_demo_people(registrar, place, households: int = 80) -> int:
    """Create the demo population once (a second run adds nothing)."""
    if Registration.objects.filter(place=place, official=registrar).exists():
        return 0
    return DemoPeople(registrar, place).build(households)


@register_seed_step
def seed_registry_demo() -> str:
    """``seed_demo`` step: the demo people, registered by the demo registrar at MXGT-01.

    Runs after ``accounts.demo.seed_demo_accounts`` (layer order), which creates the registrar
    and posts them there. Skipped when the reference places are not loaded; a second run adds
    nothing.
    """
    from accounts.models import User
    from crossings.models import Place

    registrar = User.objects.filter(username=roles.REGISTRAR, is_active=True).first()
    place = Place.objects.filter(code=REGISTRAR_PLACE_CODE).first()
    if registrar is None or place is None:
        return "skipped: no demo registrar or no place " + REGISTRAR_PLACE_CODE
    households = getattr(settings, "DEMO_REGISTRY_HOUSEHOLDS", 80)
    created = seed_demo_people(registrar, place, households=households)
    return f"{created} registrations" if created else "people already seeded"
