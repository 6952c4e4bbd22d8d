"""A stolen database or dump must not reveal who is in it (DESIGN.md, SECURITY.md CR-1/CR-3).

PostgreSQL: the data is committed (transaction=True) and read back by raw SQL and by pg_dump.
Canary strings are long and unique, so a chance match inside base64 ciphertext is impossible.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.db import connection

from registry import services
from registry.models import Person, Registration
from registry.validators import mrz_check_digit
from registry.vocabulary import DocumentKind, Relationship, VulnerabilityKind
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db(transaction=True)

GIVEN = "Canary Ñandú Zorvalinqua"
SURNAME = "Quetzplinkorath"
SECOND = "Brumbelquaxito"
ALIAS = "Xilofrendamor"
CORRECTED = "Vandroxulimeth"
PASSPORT = "QZX981726"
DPI = "1234567890101"
DETAILS = "Plumbrazek-secret-detail"
NOTES = "Grizzelnote-observacion"
DESTINATION = "Hounfrazzle-Texas"
REASON = "Morgwashreason-falta"

# Case-insensitive canaries (>= 10 letters) and exact non-ASCII ones (never inside base64).
CANARIES = [
    "Zorvalinqua", SURNAME, SECOND, ALIAS, CORRECTED, PASSPORT, DETAILS, NOTES, DESTINATION, REASON,
    "QUETZPLINKORATH<<CANARY",
]
EXACT_CANARIES = ["Ñandú", DPI]


def td3(number: str) -> str:
    """A TD3 MRZ carrying the canary surname and number, check digits computed."""
    line1 = f"P<GTM{SURNAME.upper()}<<CANARY<NANDU".ljust(44, "<")
    birth, expiry = "900101", "300101"
    line2 = f"{number}{mrz_check_digit(number)}GTM{birth}{mrz_check_digit(birth)}M{expiry}{mrz_check_digit(expiry)}" + "<" * 15
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return f"{line1}\n{line2}{mrz_check_digit(composite)}"


@pytest.fixture
def populated(make_user):
    place = PlaceFactory()
    agency = AgencyFactory()
    registrar = make_user("registrar", places=[place], agency=agency)
    supervisor = make_user("supervisor", agency=agency)
    registration = register_person(
        registrar, place, given_names=GIVEN, first_surname=SURNAME, second_surname=SECOND, aliases=[ALIAS],
    )
    person = registration.person
    services.add_document(registrar, person, kind=DocumentKind.PASSPORT, number=PASSPORT, issuing_country="GT", mrz=td3(PASSPORT))
    services.add_document(registrar, person, kind=DocumentKind.DPI, number=DPI, issuing_country="GT")
    services.flag(registrar, person, VulnerabilityKind.TRAFFICKING, details=DETAILS, registration=registration)
    services.update_details(
        registrar, registration, {"notes": NOTES, "destination_detail": DESTINATION}, expected_version=registration.version,
    )
    services.submit(registrar, registration)
    services.request_correction(supervisor, registration, reason=REASON)
    services.add_to_group(registrar, person, relationship=Relationship.HEAD)
    # A correction: the old surname now lives only in history rows.
    person = Person.objects.get(pk=person.pk)
    services.update_person(registrar, person, {"second_surname": CORRECTED}, expected_version=person.version)
    return Registration.objects.get(pk=registration.pk)


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [c for c in CANARIES if c.lower() in lowered] + [c for c in EXACT_CANARIES if c in text]


def test_the_application_reads_the_canaries_back(populated):
    person = Person.objects.get(pk=populated.person_id)
    assert (person.given_names, person.first_surname, person.second_surname, person.aliases) == (GIVEN, SURNAME, CORRECTED, [ALIAS])
    assert {d.number for d in person.documents.all()} == {PASSPORT, DPI}
    assert person.vulnerabilities.get().details == DETAILS
    assert (populated.notes, populated.destination_detail) == (NOTES, DESTINATION)
    assert populated.transitions.get(to_status="needs_correction").reason == REASON
    assert person.history.count() >= 2 and person.history.last().second_surname == SECOND


def test_no_table_holds_plaintext(populated):
    tables = [t for t in connection.introspection.table_names() if not t.startswith("django_migrations")]
    checked = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 - names from introspection
            rows = [row[0] for row in cursor.fetchall()]
            checked[table] = len(rows)
            found = leaks("\n".join(rows))
            assert found == [], f"{table} holds plaintext {found}"
    # The rows are really there, history included.
    for table in (
        "registry_person", "registry_historicalperson", "registry_identitydocument", "registry_historicalidentitydocument",
        "registry_vulnerability", "registry_historicalvulnerability", "registry_registration", "registry_historicalregistration",
        "registry_registrationtransition", "registry_personnameterm",
    ):
        assert checked[table] > 0, table
    assert checked["registry_historicalperson"] >= 2


def test_pg_dump_holds_no_plaintext_but_holds_the_rows(populated):
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = [
        "pg_dump", "--no-owner", "--no-privileges",
        "-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432),
        "-U", settings.get("USER") or "postgres", "-d", settings["NAME"],
    ]
    dump = subprocess.run(command, capture_output=True, check=True, env=env, timeout=120).stdout.decode("utf-8")  # noqa: S603
    assert leaks(f"{GIVEN} {PASSPORT.lower()} {DPI}") == ["Zorvalinqua", PASSPORT, "Ñandú", DPI]  # the detector works
    person = Person.objects.get(pk=populated.person_id)
    assert person.reference in dump  # the dump has the rows...
    assert str(person.pk) in dump
    assert "fx1:" in dump  # ...as ciphertext
    assert leaks(dump) == []  # ...and no name, number, MRZ, note, detail or reason
    for canary in CANARIES:
        assert dump.lower().count(canary.lower()) == 0
