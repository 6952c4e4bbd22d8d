"""The matching engine: block through blind indexes, decrypt the few candidates, score them,
and store pairs for the adjudication queue. Never merges anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q

from registry.models import DuplicateCandidate, GroupMembership, IdentityDocument, Person
from registry.resolution import blocking, reasons
from registry.resolution.identity import Identity, from_fields, from_person
from registry.resolution.scoring import score_pair
from registry.resolution.weights import current
from registry.vocabulary import BirthPrecision, DocumentStatus, DuplicateStatus, PersonStatus


def possible_threshold() -> float:
    return current().possible


def probable_threshold() -> float:
    return current().probable


@dataclass
class Match:
    """A candidate person with its score and stable reason ``codes``; ``reasons`` are the
    translated labels for display (never stored)."""

    person: Person
    score: float
    codes: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return reasons.labels(self.codes)

    @property
    def probable(self) -> bool:
        return self.score >= probable_threshold()


def _documents(person_ids) -> dict:
    found: dict = {}
    rows = IdentityDocument.objects.filter(person_id__in=person_ids).exclude(status=DocumentStatus.SUPERSEDED)
    for pk, bidx, kind, country in rows.values_list("person_id", "number_search_bidx", "kind", "issuing_country"):
        docs, kinds = found.setdefault(pk, (set(), set()))
        docs.add(bidx)
        kinds.add(f"{kind}:{country}")
    return found


def _groups(person_ids) -> dict:
    rows = GroupMembership.objects.filter(person_id__in=person_ids).order_by("joined_at")
    return {pk: str(group) for pk, group in rows.values_list("person_id", "group_id")}


def identities(people) -> dict:
    """Decrypted identities of people (documents and latest travel group included), by pk."""
    people = list(people)
    ids = [p.pk for p in people]
    docs, groups = _documents(ids), _groups(ids)
    return {
        p.pk: from_person(p, documents=docs.get(p.pk, ((), ()))[0], document_kinds=docs.get(p.pk, ((), ()))[1],
                          group=groups.get(p.pk, ""))
        for p in people
    }


def identity_of(person: Person) -> Identity:
    return identities([person])[person.pk]


def decided_different(person_pk) -> set:
    pairs = DuplicateCandidate.objects.filter(
        Q(person_a_id=person_pk) | Q(person_b_id=person_pk), status=DuplicateStatus.DIFFERENT_PEOPLE
    ).values_list("person_a_id", "person_b_id")
    return {pk for pair in pairs for pk in pair if pk != person_pk}


def match_identity(identity: Identity, *, threshold: float | None = None, exclude=()) -> list[Match]:
    """Candidates for an identity at or above ``threshold`` (default: possible), best first."""
    threshold = possible_threshold() if threshold is None else threshold
    found = []
    for person, other in _candidates(identity, set(exclude)):
        scored = score_pair(identity, other)
        if scored is not None and scored.score >= threshold:
            found.append((person, scored))
    people = Person.objects.in_bulk([p for p, _s in found if not isinstance(p, Person)])
    matches = [Match(p if isinstance(p, Person) else people[p], s.score, list(s.codes))
               for p, s in found if isinstance(p, Person) or p in people]  # merged meanwhile: gone
    return sorted(matches, key=lambda m: (-m.score, str(m.person.pk)))


# On PostgreSQL one statement does the blocking lookup (the same indexed ``key = ANY(...)``
# as bench/dedup_speed.py's raw SQL) and fetches the candidates with their documents and latest
# travel group; elsewhere (the SQLite demo) the portable ORM path below does it in four.
CANDIDATES_SQL = """
WITH blocked AS (
    SELECT person_id, count(*) AS shared FROM registry_personblockingkey
    WHERE key = ANY(%(keys)s::varchar[]) GROUP BY person_id ORDER BY shared DESC LIMIT %(limit)s
), found AS (
    SELECT person_id FROM blocked
    UNION SELECT person_id FROM registry_identitydocument WHERE number_search_bidx = ANY(%(docs)s::varchar[])
)
SELECT p.id, p.given_names, p.first_surname, p.second_surname, p.aliases, p.sex, p.birth_date, p.birth_year,
    p.birth_precision, p.nationality,
    ARRAY(SELECT d.number_search_bidx FROM registry_identitydocument d
          WHERE d.person_id = p.id AND d.status <> 'superseded') AS doc_bidx,
    ARRAY(SELECT d.kind || ':' || d.issuing_country FROM registry_identitydocument d
          WHERE d.person_id = p.id AND d.status <> 'superseded') AS doc_kinds,
    (SELECT m.group_id FROM registry_groupmembership m WHERE m.person_id = p.id
     ORDER BY m.joined_at DESC LIMIT 1) AS latest_group
FROM registry_person p JOIN found f ON f.person_id = p.id
WHERE p.status = 'active' AND NOT (p.id = ANY(%(exclude)s::uuid[]))
"""


def _candidates(identity: Identity, exclude: set) -> list[tuple]:
    """(person or pk, decrypted identity) of the blocked candidates, ``exclude`` left out. On
    PostgreSQL only the few columns compared are read and decrypted; the ``Person`` rows are
    loaded afterwards for the matches alone (``match_identity``)."""
    if identity.key is not None:
        exclude = {*exclude, identity.key}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CANDIDATES_SQL, {
                "keys": sorted(blocking.query_keys(identity)), "limit": blocking.MAX_CANDIDATES,
                "docs": sorted(identity.documents), "exclude": [str(pk) for pk in exclude],
            })
            return [(row[0], _identity_of_row(row, cursor.db)) for row in cursor.fetchall()]
    ids = [pk for pk in blocking.candidate_ids(identity) if pk not in exclude]
    return list(_with_identities(Person.objects.filter(pk__in=ids, status=PersonStatus.ACTIVE)).values())


def _identity_of_row(row, db) -> Identity:
    pk, given, first, second, aliases, sex, born, year, precision, nationality, docs, kinds, group = row
    plain = {name: Person._meta.get_field(name).from_db_value(value, None, db)
             for name, value in (("given_names", given), ("first_surname", first), ("second_surname", second),
                                 ("aliases", aliases))}
    return from_fields(pk, **plain, sex=sex, birth_date=born, birth_year=year, precision=precision,
                       nationality=nationality or "", documents=docs, document_kinds=kinds, group=str(group or ""))


def _with_identities(people) -> dict:
    people = list(people)
    found = identities(people)
    return {p.pk: (p, found[p.pk]) for p in people}


def candidates_for(
    *, given_names: str, first_surname: str = "", second_surname: str = "", birth_year: int | None = None,
    precision: str = BirthPrecision.EXACT, birth_date=None, sex: str = "", nationality: str = "",
    exclude: Person | None = None, threshold: float | None = None,
) -> list[Match]:
    """Possible duplicates of an identity typed in a form, best first."""
    identity = from_fields(
        exclude.pk if exclude else None, given_names=given_names, first_surname=first_surname,
        second_surname=second_surname, sex=sex, birth_date=birth_date, birth_year=birth_year, precision=precision,
        nationality=nationality,
    )
    skip = {exclude.pk, *decided_different(exclude.pk)} if exclude else set()
    return match_identity(identity, threshold=threshold, exclude=skip)


def candidates_for_person(person: Person, *, threshold: float | None = None) -> list[Match]:
    """Possible duplicates of a registered person (documents and group count), best first."""
    skip = {person.pk, *decided_different(person.pk)}
    return match_identity(identity_of(person), threshold=threshold, exclude=skip)


def score_people(person: Person, other: Person) -> Match | None:
    """The score of one pair of people (for a decision recorded by hand)."""
    both = identities([person, other])
    scored = score_pair(both[person.pk], both[other.pk])
    return Match(other, scored.score, list(scored.codes)) if scored else None


@transaction.atomic
def record_candidates(person: Person, matches: list[Match] | None = None) -> list[DuplicateCandidate]:
    """Store the person's candidates for review (codes, not labels); decided pairs keep their
    decision, pending pairs get the new score."""
    stored = []
    for match in candidates_for_person(person) if matches is None else matches:
        a, b = sorted([person.pk, match.person.pk])
        pair, created = DuplicateCandidate.objects.get_or_create(
            person_a_id=a, person_b_id=b, defaults={"score": match.score, "reasons": match.codes}
        )
        if not created and pair.status != DuplicateStatus.PENDING:
            continue
        if not created and (pair.score, pair.reasons) != (match.score, match.codes):
            pair.score, pair.reasons = match.score, match.codes
            pair.save(update_fields=["score", "reasons"])
        stored.append(pair)
    return stored


def reindex(person: Person) -> None:
    """Refresh the person's blocking keys (after registration, correction or merge)."""
    blocking.reindex(person, from_person(person))
