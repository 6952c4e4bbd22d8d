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

The blind-index drill (``rotate_keys --blind-index``) does the same for ``BLIND_INDEX_KEY``: the new
key becomes ``BLIND_INDEX_KEY`` and the old one ``BLIND_INDEX_KEY_PREVIOUS`` (lookups try both), the
command re-derives every stored index from the decrypted plaintext, and after it no row holds an
index under the old key while search, documents and duplicate blocking find the same people.
"""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from privacy import blind_index, crypto, rotation
from registry import matching, services
from registry.models import (
    IdentityDocument,
    Person,
    PersonBlockingKey,
    PersonNameTerm,
    Vulnerability,
)
from registry.resolution import blocking, engine
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


# --- BLIND_INDEX_KEY rotation --------------------------------------------------------------------

NEW_BLIND_KEY = os.urandom(32)


def stored_indexes() -> dict[str, set]:
    """Every stored blind index that lookups use, as ``{kind: {(row owner, values...)}}``.

    History rows of documents are not included: they keep the index they were written with
    (the append-only trigger lets no path rewrite them; see docs/security.md CR-2)."""
    return {
        "terms": set(PersonNameTerm.objects.values_list("person_id", "term")),
        "blocks": set(PersonBlockingKey.objects.values_list("person_id", "key")),
        "documents": set(
            IdentityDocument.objects.values_list("pk", "number_bidx", "number_search_bidx")
        ),
    }


def finds(registrar, typed) -> dict:
    """What search by name, search by document number and duplicate blocking find, per person."""
    found = {}
    for pk, given, number, _details, corrected in typed:
        person = Person.objects.get(pk=pk)
        found[pk] = (
            sorted(p.pk for p in matching.search(registrar, f"{given} Llavero {corrected}")),
            [p.pk for p in matching.search(registrar, number)],
            sorted(
                set(
                    PersonBlockingKey.objects.filter(
                        key__in=blocking.query_keys(engine.identity_of(person))
                    ).values_list("person_id", flat=True)
                )
            ),
            sorted(blocking.candidate_ids(engine.identity_of(person))),
            sorted(m.person.pk for m in matching.candidates_for_person(person)),
        )
    return found


def old_key_values(typed, old: bytes) -> set[str]:
    """Every index value the people's data has under the old key (names, blocks, documents)."""
    values: set[str] = set()
    for pk, *_ in typed:
        person = Person.objects.get(pk=pk)
        values |= blind_index.name_index_terms(
            person.given_names,
            person.first_surname,
            person.second_surname,
            *person.aliases,
            key=old,
        )
        with override_settings(BLIND_INDEX_KEY=old, BLIND_INDEX_KEY_PREVIOUS=None):
            # blocking derives with the current key only
            values |= blocking.stored_keys(engine.identity_of(person))
        for document in person.documents.all():
            values.add(
                blind_index.document_index(
                    document.kind, str(document.issuing_country), document.number, key=old
                )
            )
            values.add(
                blind_index.blind_index(
                    "".join(ch for ch in document.number.upper() if ch.isalnum()),
                    matching.DOCUMENT_SEARCH_DOMAIN,
                    key=old,
                )
            )
    return values


def test_blind_index_rotation_drill_on_a_populated_database(populated, settings, capsys):
    registrar, place, typed = populated
    before_finds = finds(registrar, typed)
    # Each number finds its person, each name finds its person, blocking keys find the person.
    assert all(found[1] == [pk] for pk, found in before_finds.items())
    assert all(pk in found[0] for pk, found in before_finds.items())
    assert all(pk in found[2] for pk, found in before_finds.items())
    before = stored_indexes()
    assert all(before.values()), "every kind of stored index is populated"
    old = bytes(settings.BLIND_INDEX_KEY)
    stale = old_key_values(typed, old)
    held = lambda indexes: {v for rows in indexes.values() for row in rows for v in row[1:]}  # noqa: E731
    assert held(before) <= stale | {None}

    # Step 1: new key current, old key previous. Lookups through the dual-key helpers still find
    # the rows not yet re-derived; a new write is indexed with the new key only.
    settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_KEY_PREVIOUS = NEW_BLIND_KEY, old
    pk, given, number, *_ = typed[2]
    assert (
        PersonNameTerm.objects.filter(term__in=blind_index.name_lookup_terms(given))
        .filter(person_id=pk)
        .exists()
    )
    assert list(
        IdentityDocument.objects.filter(
            number_bidx__in=blind_index.document_lookup_indexes(DocumentKind.PASSPORT, "GT", number)
        ).values_list("person_id", flat=True)
    ) == [pk]

    # Step 2: re-derive in small batches, with progress output.
    call_command("rotate_keys", "--blind-index", "--batch-size", "5")
    first = capsys.readouterr()
    out = first.out
    assert "BLIND_INDEX_KEY_PREVIOUS is not set" not in first.err
    assert (
        "registry.Person: 5 rows examined" in out
        and "BLIND_INDEX_KEY_PREVIOUS can be removed" in out
    )
    assert f"registry.PersonNameTerm: re-derived {PEOPLE} of {PEOPLE} rows" in out
    assert f"registry.IdentityDocument: re-derived {PEOPLE} of {PEOPLE} rows" in out

    # Step 3: the old key is gone. No stored index is under it; everything finds the same people.
    settings.BLIND_INDEX_KEY_PREVIOUS = None
    after = stored_indexes()
    assert held(after).isdisjoint(stale)
    assert {kind: len(rows) for kind, rows in after.items()} == {
        kind: len(rows) for kind, rows in before.items()
    }
    assert finds(registrar, typed) == before_finds
    other = register_person(registrar, place).person
    with pytest.raises(ValidationError) as refused:
        services.add_document(
            registrar, other, kind=DocumentKind.PASSPORT, number=typed[1][2], issuing_country="GT"
        )
    # The duplicate-document guard holds under the new key.
    assert "number" in refused.value.message_dict

    # A second run finds nothing to do and changes nothing.
    after = stored_indexes()
    call_command("rotate_keys", "--blind-index", "--batch-size", "5")
    second = capsys.readouterr()
    assert "Blind indexes: re-derived 0 rows in total" in second.out
    assert "BLIND_INDEX_KEY_PREVIOUS is not set" in second.err
    assert stored_indexes() == after


def test_blind_index_dry_run_changes_nothing(populated, settings, capsys):
    before = stored_indexes()
    settings.BLIND_INDEX_KEY_PREVIOUS, settings.BLIND_INDEX_KEY = (
        settings.BLIND_INDEX_KEY,
        NEW_BLIND_KEY,
    )
    call_command("rotate_keys", "--blind-index", "--dry-run")
    out = capsys.readouterr().out
    assert f"registry.IdentityDocument: would re-derive {PEOPLE} of {PEOPLE} rows" in out
    assert "Nothing written" in out
    assert stored_indexes() == before


def test_blind_index_rotation_with_a_missing_field_key_stops_clearly(populated, settings):
    """Re-deriving needs the plaintext: without its field key a batch changes nothing."""
    before = stored_indexes()
    settings.BLIND_INDEX_KEY_PREVIOUS, settings.BLIND_INDEX_KEY = (
        settings.BLIND_INDEX_KEY,
        NEW_BLIND_KEY,
    )
    settings.FIELD_ENCRYPTION_KEYRING = {"elsewhere": NEW_KEY}
    with pytest.raises(CommandError) as stopped:
        call_command("rotate_keys", "--blind-index", "--batch-size", "50")
    message = str(stopped.value)
    assert "Blind-index rotation stopped" in message and "FIELD_ENCRYPTION_KEYS" in message
    assert "registry.Person pk=" in message and not any(name in message for name in NAMES)
    assert stored_indexes() == before


def test_search_and_duplicate_guard_work_while_blind_indexes_are_rederived(populated, settings):
    """Between the key change and the end of ``rotate_keys --blind-index``, rows not yet
    re-derived carry the previous key's indexes and must still be found."""
    registrar, place, typed = populated
    before_finds = finds(registrar, typed)
    settings.BLIND_INDEX_KEY_PREVIOUS, settings.BLIND_INDEX_KEY = (
        settings.BLIND_INDEX_KEY,
        NEW_BLIND_KEY,
    )
    assert finds(registrar, typed) == before_finds
    other = register_person(registrar, place).person
    with pytest.raises(ValidationError) as refused:
        services.add_document(
            registrar, other, kind=DocumentKind.PASSPORT, number=typed[1][2], issuing_country="GT"
        )
    assert "number" in refused.value.message_dict


# --- PSEUDONYM_KEY rotation ----------------------------------------------------------------------


def test_issued_pseudonyms_survive_a_pseudonym_key_rotation(populated, settings):
    """Issued pseudonyms are partners' foreign keys: they are stored (PartnerPseudonym) and stay the
    same after PSEUDONYM_KEY changes; only people first served afterwards get new-key pseudonyms."""
    from accounts.agreements import pseudonym, pseudonyms_for, resolve_pseudonym

    _registrar, place, typed = populated
    agency = AgencyFactory()
    served = pseudonyms_for(agency.pk, [pk for pk, *_ in typed[:6]])

    settings.PSEUDONYM_KEY = os.urandom(32)  # rotated
    again = pseudonyms_for(agency.pk, [pk for pk, *_ in typed])
    assert {pk: again[pk] for pk in served} == served
    assert all(resolve_pseudonym(agency.pk, value) == pk for pk, value in served.items())
    first_served_now = {pk: value for pk, value in again.items() if pk not in served}
    assert first_served_now and all(
        value == pseudonym(agency.pk, pk) for pk, value in first_served_now.items()
    )
    assert all(resolve_pseudonym(agency.pk, value) == pk for pk, value in first_served_now.items())
