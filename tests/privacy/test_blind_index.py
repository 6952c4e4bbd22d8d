"""Blind indexes: normalisation, phonetic keys, keyed truncated HMACs, domain separation."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

import pytest
from django.conf import settings as django_settings

from privacy import blind_index as bi
from tests.privacy.conftest import make_key

JOSE_PEREZ_VARIANTS = [
    "José Pérez",
    unicodedata.normalize("NFD", "José Pérez"),
    "JOSE PEREZ",
    "José  Pérez ",
    "Perez, José",
    "PÉREZ JOSÉ",
]


@pytest.mark.parametrize("variant", JOSE_PEREZ_VARIANTS)
def test_jose_perez_variants_give_the_same_terms(variant):
    assert unicodedata.is_normalized("NFD", JOSE_PEREZ_VARIANTS[1])
    assert bi.name_tokens(variant) == ["jose", "perez"]
    assert bi.name_index_terms(variant) == bi.name_index_terms("jose perez")


def test_query_terms_find_stored_terms():
    stored = bi.name_index_terms("José", "Pérez", "López")
    assert bi.name_index_terms("jose perez") <= stored
    assert not bi.name_index_terms("maria lopez") <= stored


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("K'iche' B'alam", "kiche balam"),
        ("O\u2019Hara", "ohara"),
        ("María-José  de la Cruz", "maria jose de la cruz"),
        ("ÑANDÚ", "nandu"),
        ("\u202eLorenzo\u200b", "lorenzo"),
        ("", ""),
    ],
)
def test_normalise_text(raw, expected):
    assert bi.normalise_text(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Gonzalez", "Gonsales"),
        ("Vásquez", "Basques"),
        ("Hernández", "Ernandes"),
        ("Yolanda", "Llolanda"),
        ("Jiménez", "Gimenez"),
        ("Quiroz", "Kiroz"),
        ("Cecilia", "Sesilia"),
        ("Guerrero", "Guerero"),
        ("Gerardo", "Jerardo"),
        ("Ñandú", "Nandu"),
        ("Xol", "Shol"),
    ],
)
def test_phonetic_key_matches_spanish_spellings(a, b):
    assert bi.phonetic_key(a) == bi.phonetic_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("Perez", "Lopez"), ("Chavez", "Cabes"), ("Gerardo", "Guerardo")]
)
def test_phonetic_key_keeps_different_sounds_apart(a, b):
    assert bi.phonetic_key(a) != bi.phonetic_key(b)


def test_phonetic_terms_catch_spelling_variants_but_token_terms_do_not():
    a, b = bi.name_index_terms("Gonzalez"), bi.name_index_terms("Gonsales")
    assert {t for t in a if t.startswith("p:")} == {t for t in b if t.startswith("p:")}
    assert {t for t in a if t.startswith("t:")}.isdisjoint(b)


def test_name_terms_are_short_and_prefixed():
    terms = bi.name_index_terms("José Pérez")
    assert len(terms) == 4
    assert all(t[:2] in {"t:", "p:"} and len(t) == 2 + bi.NAME_INDEX_BITS // 4 for t in terms)


def test_particles_are_not_indexed_unless_alone():
    assert bi.name_index_terms("de la Cruz") == bi.name_index_terms("Cruz")
    assert bi.name_index_terms("De") != set()


def test_blind_index_is_truncated_keyed_hmac(settings):
    value = bi.blind_index("perez", "d", bits=64)
    expected = hmac.new(django_settings.BLIND_INDEX_KEY, b"d\x00perez", hashlib.sha256).hexdigest()[
        :16
    ]
    assert value == expected
    settings.BLIND_INDEX_KEY = make_key()
    assert bi.blind_index("perez", "d", bits=64) != value


def test_domain_separation():
    value = bi.blind_index("perez", bi.TOKEN_DOMAIN, bits=256)
    assert value != bi.blind_index("perez", bi.PHONETIC_DOMAIN, bits=256)
    for other_key in [
        *django_settings.FIELD_ENCRYPTION_KEYRING.values(),
        django_settings.SECRET_KEY.encode(),
    ]:
        message = bi.TOKEN_DOMAIN.encode() + b"\x00perez"
        assert value != hmac.new(other_key, message, hashlib.sha256).hexdigest()
        assert value != hmac.new(other_key, b"perez", hashlib.sha256).hexdigest()


def test_blind_index_rejects_bad_parameters():
    with pytest.raises(ValueError):
        bi.blind_index("x", "d", bits=12)
    with pytest.raises(ValueError):
        bi.blind_index("x", "a\x00b")


def test_document_index_normalises_number():
    base = bi.document_index("passport", "GT", "G123456")
    assert bi.document_index("passport", "gt", " g-123 456 ") == base
    assert len(base) == 32
    assert bi.document_index("passport", "MX", "G123456") != base
    assert bi.document_index("national_id", "GT", "G123456") != base
    with pytest.raises(ValueError):
        bi.document_index("passport", "GT", " - ")
