"""The decrypted identity the engine compares: one per person (or per import row).

Built from a ``Person`` after decryption (``from_person``) or from raw, validated fields
(``from_fields``, used by imports and the evaluation harness). It holds no database handles,
so scoring is a pure function that tests and the weight estimator can run without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from registry.resolution.names import SplitName
from registry.vocabulary import BirthPrecision

# Years a recorded birth may be off, by precision; two records may differ by the sum of theirs.
BIRTH_SLACK = {BirthPrecision.EXACT: 0, BirthPrecision.YEAR: 1, BirthPrecision.ESTIMATED: 3}


@dataclass(frozen=True)
class Identity:
    """What the engine knows about one record; ``key`` is the person's pk or a row id."""

    key: object
    names: tuple[SplitName, ...]
    sex: str = ""
    birth_date: dt.date | None = None
    birth_year: int | None = None
    precision: str = BirthPrecision.EXACT
    nationality: str = ""
    documents: frozenset[str] = field(default_factory=frozenset)  # number_search_bidx values
    document_kinds: frozenset[str] = field(default_factory=frozenset)  # "kind:COUNTRY"
    group: str = ""  # travel group id (or the import's group key)

    @property
    def name(self) -> SplitName:
        return self.names[0]

    @property
    def slack(self) -> int:
        return BIRTH_SLACK.get(self.precision, 0)


def from_fields(
    key, *, given_names: str, first_surname: str = "", second_surname: str = "", aliases=(), **clear,
) -> Identity:
    """An identity from plain values (already validated); ``clear``: ``with_names``' keywords."""
    names = (SplitName.of(given_names, first_surname, second_surname), *(SplitName.from_alias(a) for a in aliases or ()))
    return with_names(key, names, **clear)


def with_names(
    key, names: tuple[SplitName, ...], *, sex: str = "", birth_date: dt.date | None = None,
    birth_year: int | None = None, precision: str = BirthPrecision.EXACT, nationality: str = "", documents=(),
    document_kinds=(), group: str = "",
) -> Identity:
    """An identity with names already split; ``names=()``: a shell of the columns stored in
    clear, which is all ``scoring.Ceiling.clear_levels`` reads."""
    if birth_year is None and birth_date is not None:
        birth_year = birth_date.year
    return Identity(
        key=key, names=names, sex=sex or "", birth_date=birth_date, birth_year=birth_year, precision=precision,
        nationality=str(nationality or ""), documents=frozenset(documents), document_kinds=frozenset(document_kinds),
        group=str(group or ""),
    )


def from_person(person, *, documents=(), document_kinds=(), group: str = "") -> Identity:
    """The identity of a decrypted ``Person`` (documents and group loaded by the caller)."""
    return from_fields(
        person.pk, given_names=person.given_names, first_surname=person.first_surname,
        second_surname=person.second_surname, aliases=person.aliases, sex=person.sex, birth_date=person.birth_date,
        birth_year=person.birth_year, precision=person.birth_precision, nationality=str(person.nationality or ""),
        documents=documents, document_kinds=document_kinds, group=group,
    )
