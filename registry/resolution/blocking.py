"""Candidate generation (blocking) through blind indexes only.

A person's blocking keys are keyed HMACs (``BLIND_INDEX_KEY``, domain ``block.v1``, 32 bits) of

* ``pair|<sound a>|<sound b>|<birth year>`` for every pair of distinct phonetic codes of their
  name tokens (given names, both surnames, aliases; nicknames mapped to the full name first):
  two records share a key when two name words sound alike and the birth year is the same;
* ``one|<sound of the first given name>|<birth year>|<nationality>``: people known by one name;
* ``ini|<sound of a surname>|<initial of the given name>|<sex>|<birth year>``: a typo in the given
  name together with a missing surname still leaves this key;
* ``gi|<sound of the first given name>|<initial of a surname>|<birth year>``: a typo in one
  surname and the other missing or swapped, with a nickname or a changed nationality.

Every year-bearing key is written for each year the birth may be: the birth year ± the record's
own slack (``identity.BIRTH_SLACK``: exact 0, year only 1, estimated age 3), and a query looks up
its own years the same way. Two records share a year key exactly when their births are
compatible (years at most the sum of their slacks apart: the scoring veto), so an exact birth —
most records — probes one year, not the seven a query-side window of the widest stored slack
needed. Sharing ``k`` name keys then shows as ``k`` times the years both windows overlap;
``overlap`` divides it back for the ranking. Documents block through
``IdentityDocument.number_search_bidx``. The database never sees a name, only these keys; the
few candidates found are decrypted and scored in memory (``registry.resolution.scoring``).
"""

from __future__ import annotations

from itertools import combinations

from django.db.models import Count

from privacy.blind_index import blind_index, blind_index_set
from registry.models import IdentityDocument, PersonBlockingKey
from registry.resolution.identity import BIRTH_SLACK, Identity
from registry.resolution.names import phonetic_key

BLOCK_DOMAIN = "block.v1"
BLOCK_BITS = 32
MAX_SOUNDS = 8  # caps the pairs of a person with many aliases (28 pairs)
MAX_CANDIDATES = 200
# The slack of a key row whose precision is unknown (a row older than the birth columns): never
# filtered out. ``engine.BIRTH_FILTER`` uses the same value in SQL.
UNKNOWN_SLACK = 99


def _sounds(identity: Identity) -> list[str]:
    sounds: list[str] = []
    for name in identity.names:
        for token in name.tokens:
            code = phonetic_key(token)
            if code and code not in sounds:
                sounds.append(code)
    return sounds[:MAX_SOUNDS]


def _key(value: str) -> str:
    return "b:" + blind_index(value, BLOCK_DOMAIN, BLOCK_BITS)


def _surname_sounds(identity: Identity) -> list[str]:
    name = identity.name
    return [code for code in (phonetic_key(t) for t in (*name.first, *name.second)) if code]


def _raw_keys(identity: Identity, years, sexes) -> set[str]:
    sounds = sorted(_sounds(identity))
    name = identity.name
    first = phonetic_key(name.given[0]) if name.given else ""
    initial = name.given[0][:1] if name.given else ""
    raw: set[str] = set()
    for year in years:
        raw.update(f"pair|{a}|{b}|{year}" for a, b in combinations(sounds, 2))
        if first:
            raw.add(f"one|{first}|{year}|{identity.nationality}")
        if initial:  # a typo in the given name and a missing surname leave one surname word
            raw.update(f"ini|{s}|{initial}|{sex}|{year}" for s in _surname_sounds(identity) for sex in sexes)
        if first:  # a typo in a surname: its first letter usually survives
            raw.update(f"gi|{first}|{s[:1]}|{year}" for s in (*name.first, *name.second) if s)
    return raw


def _years(identity: Identity):
    """The years a birth may be (its year ± its own slack); ``[None]`` when unknown."""
    year = identity.birth_year
    return [None] if year is None else range(year - identity.slack, year + identity.slack + 1)


def overlap(year: int | None, slack: int, other_year: int | None, other_slack: int) -> int:
    """How many years two births' windows share (1 when a year is unknown: those keys carry
    none); each shared name key is stored and looked up once per shared year."""
    if year is None or other_year is None:
        return 1
    return max(1, min(year + slack, other_year + other_slack) - max(year - slack, other_year - other_slack) + 1)


def stored_keys(identity: Identity) -> set[str]:
    """The keys stored for a person (every year their birth may be; their recorded sex)."""
    return {_key(value) for value in _raw_keys(identity, _years(identity), [identity.sex or "u"])}


def query_keys(identity: Identity) -> set[str]:
    """The keys to look up for an identity (every year its birth may be; its sex or unknown)."""
    years = _years(identity)
    sexes = {"f", "m", "x", "u"} if identity.sex in ("", "u") else {identity.sex, "u"}
    # under the previous BLIND_INDEX_KEY too while a rotation runs; stored_keys: current only
    return {"b:" + k for k in blind_index_set(_raw_keys(identity, years, sorted(sexes)), BLOCK_DOMAIN, BLOCK_BITS)}


def clear_columns(identity: Identity) -> dict:
    """The birth columns every key row of the person carries (``PersonBlockingKey``)."""
    return {"birth_year": identity.birth_year, "birth_precision": identity.precision, "birth_date": identity.birth_date}


def key_rows(person, identity: Identity, keys=None) -> list[PersonBlockingKey]:
    """Unsaved key rows of a person (all of ``stored_keys`` unless ``keys``), each carrying the
    birth columns the lookup filters on."""
    keys = stored_keys(identity) if keys is None else keys
    columns = clear_columns(identity)
    return [PersonBlockingKey(person=person, key=k, **columns) for k in sorted(keys)]


def reindex(person, identity: Identity) -> None:
    """Replace a person's blocking keys (call after any change of names, birth or nationality);
    rows whose copied birth is stale are written again."""
    keys = stored_keys(identity)
    PersonBlockingKey.objects.filter(person=person).exclude(key__in=keys, **clear_columns(identity)).delete()
    existing = set(PersonBlockingKey.objects.filter(person=person).values_list("key", flat=True))
    PersonBlockingKey.objects.bulk_create(key_rows(person, identity, keys - existing), ignore_conflicts=True)


def candidate_ids(identity: Identity, *, limit: int = MAX_CANDIDATES) -> list:
    """Ids of people sharing a blocking key or a document with the identity, best first (by
    name keys shared, each counted once whatever the years; then the nearer birth year, then
    the id: ``engine.RANKING``)."""
    rows = (
        PersonBlockingKey.objects.filter(key__in=query_keys(identity))
        .values("person_id", "birth_year", "birth_precision").annotate(shared=Count("id"))
    )
    rank = {
        row["person_id"]: (
            -row["shared"] / overlap(identity.birth_year, identity.slack, row["birth_year"],
                                     BIRTH_SLACK.get(row["birth_precision"], UNKNOWN_SLACK)),
            UNKNOWN_SLACK if identity.birth_year is None or row["birth_year"] is None
            else abs(row["birth_year"] - identity.birth_year),
            str(row["person_id"]),
        )
        for row in rows
    }
    ids = sorted(rank, key=rank.__getitem__)[:limit]
    if identity.documents:
        docs = IdentityDocument.objects.filter(number_search_bidx__in=identity.documents).values_list("person_id", flat=True)
        ids = list(dict.fromkeys([*docs, *ids]))
    return [pk for pk in ids if pk != identity.key]
