"""Keyed, truncated blind indexes: how encrypted names and documents are found and deduplicated.

A blind index is ``HMAC-SHA256(BLIND_INDEX_KEY, domain || 0x00 || normalised value)``,
truncated. The key is separate from the encryption keys and from ``SECRET_KEY`` (checked at
startup by ``config.keys``), and every use has its own *domain* string, so an index of one kind
can never be compared with, or replayed as, another.

Rotation (``privacy.rotation.rederive_blind_indexes``): with ``BLIND_INDEX_KEY`` set to the new
key and ``BLIND_INDEX_KEY_PREVIOUS`` to the old one, indexes are always *written* with the new key,
while lookups through ``blind_indexes``/``name_lookup_terms``/``document_lookup_indexes`` try both.

Names use **short** truncations (``NAME_INDEX_BITS``): an index term matches many people by
design, so a stolen database cannot confirm one name, and searches return *candidates* whose
decrypted names are then compared in Python. Documents use 128 bits because a unique constraint
must hold on them.
"""

from __future__ import annotations

import hmac
import re
import unicodedata

from django.conf import settings
from unidecode import unidecode

NAME_INDEX_BITS = 32
DOCUMENT_INDEX_BITS = 128
TOKEN_DOMAIN = "name.token.v1"  # noqa: S105 - a domain label, not a secret
PHONETIC_DOMAIN = "name.phonetic.v1"
DOCUMENT_DOMAIN = "document.v1"

# Joining particles of Spanish names: indexing them would make every "de la" a candidate.
NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "van", "von"})

_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc\u02bb\u00b4\u0060]")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r" {2,}")

# Spanish (Mexico/Central America) spelling -> sound, applied in order to a normalised token.
# Upper-case letters are placeholders so a later rule cannot rewrite an earlier result.
_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^a-z]", ""),  # digits and spaces carry no sound
        (r"ph", "F"),
        (r"ch", "C"),  # the affricate, distinct from both k and s
        (r"sh|x", "X"),  # Mayan and English sh; Mexican x is most often /s/ or /sh/ in names
        (r"qu(?=[ei])", "K"),
        (r"gu(?=[ei])", "G"),  # hard g: Guillermo
        (r"g(?=[ei])|j", "J"),  # soft g sounds like j: Gerardo / Jerardo
        (r"c(?=[ei])|z", "S"),  # seseo: ce, ci and z sound like s
        (r"[ckq]", "K"),
        (r"ll", "Y"),  # yeismo
        (r"y(?![aeiou])", "I"),  # final or pre-consonant y is the vowel i: Uruguay
        (r"h", ""),  # h is silent once ch, sh and ph are gone
        (r"v", "B"),  # b and v are the same sound
        (r"w", "U"),
    )
)
_REPEATS = re.compile(r"(.)\1+")


def normalise_text(value: str) -> str:
    """Lower-case ASCII words: NFC, casefold, accents stripped, punctuation to spaces.

    Apostrophes inside words are dropped rather than split ("K'iche'" -> "kiche",
    "O'Hara" -> "ohara"), so a name is not cut into a one-letter token.
    """
    text = unicodedata.normalize("NFC", value or "").casefold()
    text = unidecode(_APOSTROPHES.sub("", text)).lower()
    text = _NOT_WORD.sub(" ", _APOSTROPHES.sub("", text))
    return _SPACES.sub(" ", text).strip()


def name_tokens(value: str) -> list[str]:
    """The distinct words of a name, sorted: "Pérez, José" and "jose perez" give the same list."""
    return sorted(set(normalise_text(value).split()))


def phonetic_key(token: str) -> str:
    """A Spanish-aware sound code for one name token ("Gonzalez" and "Gonsales" agree).

    Vowels are kept because Spanish vowels are stable; doubled letters collapse after mapping.
    """
    code = normalise_text(token).replace(" ", "")
    for pattern, replacement in _PHONETIC_RULES:
        code = pattern.sub(replacement, code)
    return _REPEATS.sub(r"\1", code.lower())


def lookup_keys() -> list[bytes]:
    """The keys a *lookup* must try: ``BLIND_INDEX_KEY``, then ``BLIND_INDEX_KEY_PREVIOUS`` while
    a rotation is under way (rows not yet re-derived still carry the previous key's index).
    Stored indexes are always written with ``BLIND_INDEX_KEY`` alone."""
    keys = [bytes(settings.BLIND_INDEX_KEY)]
    previous = getattr(settings, "BLIND_INDEX_KEY_PREVIOUS", None)
    if previous and bytes(previous) not in keys:
        keys.append(bytes(previous))
    return keys


def blind_index(value: str, domain: str, bits: int = 64, *, key: bytes | None = None) -> str:
    """Hex HMAC-SHA256 of ``value`` under ``BLIND_INDEX_KEY`` (or ``key``) in ``domain``, cut to ``bits``."""
    if bits % 8 or not 8 <= bits <= 256:
        raise ValueError("bits must be a multiple of 8 between 8 and 256")
    if "\x00" in domain:
        raise ValueError("domain must not contain NUL")
    message = domain.encode("utf-8") + b"\x00" + value.encode("utf-8")
    secret = bytes(settings.BLIND_INDEX_KEY if key is None else key)
    digest = hmac.digest(secret, message, "sha256")
    return digest[: bits // 8].hex()


def blind_indexes(value: str, domain: str, bits: int = 64) -> list[str]:
    """``blind_index`` under every lookup key (current first): for ``__in`` lookups that must
    keep finding rows during a ``BLIND_INDEX_KEY`` rotation."""
    return list(dict.fromkeys(blind_index(value, domain, bits, key=k) for k in lookup_keys()))


def blind_index_set(values, domain: str, bits: int = 64) -> set[str]:
    """``blind_indexes`` of many values at once (a lookup's whole key set): the keys and the
    domain prefix are prepared once instead of per value."""
    if bits % 8 or not 8 <= bits <= 256 or "\x00" in domain:
        raise ValueError("bits must be a multiple of 8 between 8 and 256; domain must not contain NUL")
    prefix, size = domain.encode("utf-8") + b"\x00", bits // 8
    return {hmac.digest(secret, prefix + value.encode("utf-8"), "sha256")[:size].hex()
            for secret in lookup_keys() for value in values}


def _indexable(tokens: list[str]) -> list[str]:
    """Drop joining particles unless the name has nothing else (a name "De" stays findable)."""
    kept = [token for token in tokens if token not in NAME_PARTICLES]
    return kept or tokens


def name_index_terms(*names: str, key: bytes | None = None) -> set[str]:
    """Index terms for a person's names: ``t:<hex>`` per word and ``p:<hex>`` per sound.

    Store them in an index table and search with the terms of the query; every hit is only a
    candidate to be confirmed after decryption.
    """
    terms: set[str] = set()
    for name in names:
        for token in _indexable(name_tokens(name or "")):
            terms.add("t:" + blind_index(token, TOKEN_DOMAIN, NAME_INDEX_BITS, key=key))
            sound = phonetic_key(token)
            if sound:
                terms.add("p:" + blind_index(sound, PHONETIC_DOMAIN, NAME_INDEX_BITS, key=key))
    return terms


def name_lookup_terms(*names: str) -> set[str]:
    """The terms to *search* with: ``name_index_terms`` under every lookup key. Outside a
    rotation this is exactly ``name_index_terms``."""
    terms: set[str] = set()
    for key in lookup_keys():
        terms |= name_index_terms(*names, key=key)
    return terms


def normalise_document_number(number: str) -> str:
    """Upper-case ASCII letters and digits only: "g-123 456" -> "G123456"."""
    return re.sub(r"[^A-Z0-9]", "", unidecode(number or "").upper())


def _document_value(kind: str, country: str, number: str) -> str:
    number = normalise_document_number(number)
    if not number:
        raise ValueError("document number is empty after normalisation")
    return "\x1f".join((kind.strip().lower(), country.strip().upper(), number))


def document_index(kind: str, country: str, number: str, *, key: bytes | None = None) -> str:
    """128-bit index of an identity document, for exact lookup and a unique constraint."""
    return blind_index(
        _document_value(kind, country, number), DOCUMENT_DOMAIN, DOCUMENT_INDEX_BITS, key=key
    )


def document_lookup_indexes(kind: str, country: str, number: str) -> list[str]:
    """``document_index`` under every lookup key (current first), for ``number_bidx__in``."""
    return blind_indexes(
        _document_value(kind, country, number), DOCUMENT_DOMAIN, DOCUMENT_INDEX_BITS
    )
