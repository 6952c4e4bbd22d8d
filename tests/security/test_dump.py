"""A stolen database dump must not say who is in it (SECURITY.md CR-1, issue 8 "Proof").

100 synthetic people (Faker es_MX) are registered through the services with a passport and a
vulnerability flag with free-text details, the database is dumped with ``pg_dump``, and none of
their names, document numbers or vulnerability details appear in the dump, in any table (live,
history, outbox, access log, search terms).

Single common name tokens ("María", "López") may legitimately appear elsewhere (a place name, a
staff account): a token is only searched for when it is absent from a dump taken *before* the
people were registered, and only when it is long enough not to occur inside base64 ciphertext by
chance. Full names, document numbers and details are always searched for.
"""

from __future__ import annotations

import os
import random
import string
import subprocess

import pytest
from django.db import connection
from faker import Faker

from registry import services
from registry.models import IdentityDocument, Person, Vulnerability
from registry.vocabulary import DocumentKind, VulnerabilityKind
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="pg_dump needs PostgreSQL",
    ),
]

PEOPLE = 100
# A lone name token shorter than this matches base64 ciphertext by chance (case-insensitively,
# 4 letters: about once per megabyte); full names contain a space, which base64 never does.
MIN_TOKEN = 6
FLAG_KINDS = [
    VulnerabilityKind.TRAFFICKING,
    VulnerabilityKind.EXTORTION_KIDNAPPING,
    VulnerabilityKind.GBV_SURVIVOR,
    VulnerabilityKind.SERIOUS_MEDICAL,
    VulnerabilityKind.TORTURE_SURVIVOR,
]


def pg_dump() -> str:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = [
        "pg_dump",
        "--no-owner",
        "--no-privileges",
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
        "-d",
        db["NAME"],
    ]
    done = subprocess.run(command, capture_output=True, check=True, env=env, timeout=300)  # noqa: S603
    return done.stdout.decode("utf-8")


def seed(registrar, place, fake: Faker, rng: random.Random) -> list[dict]:
    """Register PEOPLE people with a passport and a flag; returns what was typed in."""
    typed = []
    for index in range(PEOPLE):
        given, first, second = fake.first_name(), fake.last_name(), fake.last_name()
        number = "".join(rng.choices(string.ascii_uppercase, k=2)) + f"{rng.randrange(10**7):07d}"
        details = f"{fake.sentence(nb_words=8)} {fake.street_name()} {index:03d}"
        registration = register_person(
            registrar, place, given_names=given, first_surname=first, second_surname=second
        )
        person = registration.person
        services.add_document(
            registrar, person, kind=DocumentKind.PASSPORT, number=number, issuing_country="GT"
        )
        services.flag(
            registrar,
            person,
            FLAG_KINDS[index % len(FLAG_KINDS)],
            details=details,
            registration=registration,
        )
        typed.append({"names": (given, first, second), "number": number, "details": details})
    return typed


def test_pg_dump_of_100_people_holds_none_of_their_names_numbers_or_details(make_user):
    fake, rng = Faker("es_MX"), random.Random(8)  # noqa: S311 - synthetic data
    fake.seed_instance(8)
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    before = pg_dump().lower()

    typed = seed(registrar, place, fake, rng)

    # The rows are really there, and readable through the application.
    assert Person.objects.count() == PEOPLE
    assert IdentityDocument.objects.count() == PEOPLE
    assert Vulnerability.objects.filter(derived=False).count() == PEOPLE
    assert {document.number for document in IdentityDocument.objects.all()} == {
        p["number"] for p in typed
    }
    assert {flag.details for flag in Vulnerability.objects.all()} >= {p["details"] for p in typed}

    dump = pg_dump()
    lowered = dump.lower()
    assert all(
        str(pk) in dump for pk in Person.objects.values_list("pk", flat=True)
    )  # the people are in it...
    assert lowered.count("fx1:") >= 3 * PEOPLE  # ...as ciphertext

    searched, leaks = 0, []
    for person in typed:
        given, first, second = person["names"]
        needles = [f"{given} {first}", f"{first} {second}", person["number"], person["details"]]
        needles += [
            token
            for token in (given, first, second)
            if len(token) >= MIN_TOKEN and token.lower() not in before
        ]
        for needle in needles:
            searched += 1
            if needle.lower() in lowered:
                leaks.append(needle)
    assert leaks == []
    assert searched >= 4 * PEOPLE  # the check did search for every person
    # The detector works: the same search over a plaintext rendering finds everything.
    plaintext = "\n".join(
        f"{' '.join(p['names'])} {p['number']} {p['details']}" for p in typed
    ).lower()
    assert all(
        p["number"].lower() in plaintext and p["details"].lower() in plaintext for p in typed
    )
