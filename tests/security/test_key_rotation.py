"""Key-rotation drill on a populated database (SECURITY.md CR-2, issue 8 hardening).

People are registered through the services (names, passports, flags with details, a
correction that leaves history rows). Then the drill of docs/security.md runs on *every* model
with encrypted columns — not a test table:

1. the new key goes first in the keyring, the old one stays: old and new ciphertext both read;
2. ``manage.py rotate_keys`` re-encrypts in small batches;
3. the old key is removed: every column of every table is under the new key id and everything
   still reads — identity, documents, flags, history; search and the duplicate-passport guard
   still work (blind indexes use their own key, which did not rotate).

And the bad input: rotating with a keyring that lacks the key of stored values stops with a
clear error naming where, and changes nothing.
"""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from privacy import crypto, rotation
from registry import matching, services
from registry.models import IdentityDocument, Person, Vulnerability
from registry.vocabulary import DocumentKind, VulnerabilityKind
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

NAMES = [
    "Abrilda",
    "Belsira",
    "Cortena",
    "Dolvina",
    "Esmiria",
    "Fabrela",
    "Gorsina",
    "Halvira",
    "Isolerta",
    "Jovarda",
    "Kelmira",
    "Lorvena",
]
PEOPLE = len(NAMES)
NEW_KEY = os.urandom(32)


def stored_key_ids() -> dict[str, set[str]]:
    """``{table.column: {key ids}}`` read straight from every encrypted column (raw SQL)."""
    found: dict[str, set[str]] = {}
    with connection.cursor() as cursor:
        for model in rotation.models_with_encrypted_fields():
            table = model._meta.db_table
            for field in rotation.encrypted_fields(model):
                column = field.column
                cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')  # noqa: S608
                ids = {crypto.token_key_id(value) for (value,) in cursor.fetchall()}
                if ids:
                    found[f"{table}.{column}"] = ids
    return found


@pytest.fixture
def populated(make_user):
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    typed = []
    for index in range(PEOPLE):
        registration = register_person(
            registrar, place, given_names=NAMES[index], first_surname="Llavero"
        )
        person = registration.person
        number = f"RK{index:07d}"
        services.add_document(
            registrar, person, kind=DocumentKind.PASSPORT, number=number, issuing_country="GT"
        )
        services.flag(
            registrar,
            person,
            VulnerabilityKind.SERIOUS_MEDICAL,
            details=f"detalle {index}",
            registration=registration,
        )
        person = Person.objects.get(pk=person.pk)
        corrected = f"Cambio{NAMES[index].lower()}"
        services.update_person(
            registrar, person, {"second_surname": corrected}, expected_version=person.version
        )
        typed.append((person.pk, NAMES[index], number, f"detalle {index}", corrected))
    return registrar, place, typed


def test_rotation_drill_on_a_populated_database(populated, settings, capsys):
    registrar, place, typed = populated
    old_id = crypto.active_key_id()
    before = stored_key_ids()
    assert {
        "registry_person.given_names",
        "registry_identitydocument.number",
        "registry_vulnerability.details",
    } <= set(before)
    assert any(
        table.startswith("registry_historical") for table in before
    )  # history is encrypted too
    assert all(ids == {old_id} for ids in before.values())

    # Step 1: the new key first, the old one kept; a write now uses the new key, old rows still read.
    settings.FIELD_ENCRYPTION_KEYRING = {"drill2": NEW_KEY, **settings.FIELD_ENCRYPTION_KEYRING}
    assert Person.objects.get(pk=typed[0][0]).given_names == typed[0][1]

    # Step 2: re-encrypt everything in small batches.
    call_command("rotate_keys", "--batch-size", "5")
    out = capsys.readouterr().out
    assert "Active key drill2" in out

    # Step 3: the old key is gone. Every stored value is under the new key and still reads.
    settings.FIELD_ENCRYPTION_KEYRING = {"drill2": NEW_KEY}
    after = stored_key_ids()
    assert set(after) == set(before)
    assert all(ids == {"drill2"} for ids in after.values()), after
    for pk, given, number, details, corrected in typed:
        person = Person.objects.get(pk=pk)
        assert (person.given_names, person.second_surname) == (given, corrected)
        assert [d.number for d in person.documents.all()] == [number]
        assert Vulnerability.objects.get(person=person, derived=False).details == details
        assert {h.second_surname for h in person.history.all()} >= {
            corrected
        }  # history rows decrypt
    # Blind indexes (their own key, not rotated) still find people and still guard duplicates.
    assert typed[3][0] in [p.pk for p in matching.search(registrar, f"{typed[3][1]} Llavero")]
    assert [p.pk for p in matching.search(registrar, typed[5][2])] == [typed[5][0]]
    other = register_person(registrar, place).person
    with pytest.raises(ValidationError) as refused:
        services.add_document(
            registrar, other, kind=DocumentKind.PASSPORT, number=typed[1][2], issuing_country="GT"
        )
    assert "number" in refused.value.message_dict
    assert IdentityDocument.objects.count() == PEOPLE


def test_rotation_with_a_missing_key_stops_clearly_and_changes_nothing(populated, settings):
    before = stored_key_ids()
    settings.FIELD_ENCRYPTION_KEYRING = {"elsewhere": base64.b64decode(base64.b64encode(NEW_KEY))}
    with pytest.raises(CommandError) as stopped:
        call_command("rotate_keys", "--batch-size", "5")
    message = str(stopped.value)
    assert "Rotation stopped" in message and "FIELD_ENCRYPTION_KEYS" in message
    assert (
        not any(name in message for name in NAMES) and "RK0000" not in message
    )  # names the place, never the value
    assert stored_key_ids() == before  # nothing re-encrypted under a half-known keyring
