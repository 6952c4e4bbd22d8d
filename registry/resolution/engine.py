"""The matching engine: block through blind indexes, decrypt the few candidates, score them,
and store pairs for the adjudication queue. Never merges anything."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from django.db import connection, transaction
from django.db.models import Q

from registry.models import DuplicateCandidate, GroupMembership, IdentityDocument, Person
from registry.resolution import blocking, reasons
from registry.resolution.identity import BIRTH_SLACK, Identity, from_fields, from_person, with_names
from registry.resolution.names import SplitName
from registry.resolution.scoring import (
    Ceiling,
    best_document_level_but_same,
    score_pair,
)
from registry.resolution.weights import current
from registry.vocabulary import BirthPrecision, DocumentStatus, DuplicateStatus, PersonStatus


def possible_threshold() -> float:
    return current().possible


def probable_threshold() -> float:
    return current().probable


@dataclass
class Match:
    """A candidate person (by pk) with its score and stable reason ``codes``; ``reasons`` are the
    translated labels for display (never stored). The ``Person`` row is read only when a caller
    asks for it (``person``, or ``load_people`` for a list): the lookup itself reads just the
    columns it compares."""

    person_id: object
    score: float
    codes: list[str] = field(default_factory=list)
    loaded: Person | None = field(default=None, repr=False, compare=False)

    @property
    def person(self) -> Person:
        if self.loaded is None:
            self.loaded = Person.objects.get(pk=self.person_id)
        return self.loaded

    @property
    def reasons(self) -> list[str]:
        return reasons.labels(self.codes)

    @property
    def probable(self) -> bool:
        return self.score >= probable_threshold()


def load_people(matches: list[Match], queryset=None) -> list[Match]:
    """The matches whose person is in ``queryset`` (default: all people), each with its
    ``Person`` loaded in one query; the others are left out (e.g. not visible to a user)."""
    found = (Person.objects if queryset is None else queryset).in_bulk([m.person_id for m in matches])
    kept = [m for m in matches if m.person_id in found]
    for match in kept:
        match.loaded = found[match.person_id]
    return kept


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


# The columns of a person the engine compares, in ``_assemble``'s order.
IDENTITY_COLUMNS = ("pk", "given_names", "first_surname", "second_surname", "aliases", "sex", "birth_date",
                    "birth_year", "birth_precision", "nationality")


def _assemble(rows) -> dict:
    """Identities (documents and latest travel group included), by pk, from decrypted rows of
    ``IDENTITY_COLUMNS``."""
    rows = list(rows)
    ids = [row[0] for row in rows]
    docs, groups = _documents(ids), _groups(ids)
    return {
        pk: from_fields(pk, given_names=given, first_surname=first, second_surname=second, aliases=aliases, sex=sex,
                        birth_date=born, birth_year=year, precision=precision, nationality=str(nationality or ""),
                        documents=docs.get(pk, ((), ()))[0], document_kinds=docs.get(pk, ((), ()))[1],
                        group=groups.get(pk, ""))
        for pk, given, first, second, aliases, sex, born, year, precision, nationality in rows
    }


def identities(people) -> dict:
    """Decrypted identities of people (documents and latest travel group included), by pk."""
    return _assemble([tuple(getattr(p, name) for name in IDENTITY_COLUMNS) for p in people])


def active_identities(pks) -> dict:
    """The identities of the active people among ``pks``, read as values (decrypted by the
    fields, no model instances: the batch import reads thousands)."""
    return _assemble(Person.objects.filter(pk__in=pks, status=PersonStatus.ACTIVE).values_list(*IDENTITY_COLUMNS))


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
    for key, other in _candidates(identity, set(exclude), threshold):
        scored = score_pair(identity, other)
        if scored is not None and scored.score >= threshold:
            found.append(Match(key, scored.score, list(scored.codes)))
    return sorted(found, key=lambda m: (-m.score, str(m.person_id)))


# On PostgreSQL one prepared statement does the lookup; elsewhere (the SQLite demo) the portable
# ORM path below does it in four. Shortcuts keep it close to the bare index scan (the same
# ``key = ANY(...)`` as bench/dedup_speed.py's raw SQL) without changing its answer
# (``test_sql_shortcuts_agree_with_scoring``):
# * Each key row carries its person's birth (``blocking.key_rows``), so people whose birth rules
#   them out are dropped while the keys are read: born too far apart (``scoring.compare_birth``'s
#   veto, which the keys' year windows already imply; kept for rows of any age) and, when the
#   weights say such a pair can never reach the threshold (``scoring.Ceiling``: -10.7 bits
#   with the shipped weights), exact birth dates that differ and are not day/month transposed.
#   People are ranked by the name keys they share, each counted once (``blocking.overlap``: a
#   key is stored and looked up once per year both birth windows share).
# * Documents and travel groups are read only when the identity looked up has some (an
#   identity typed in the registration form has neither, so those levels are "none").
# * Of the people returned, only those whose best possible score (clear columns plus the best
#   name levels) reaches the threshold have their surnames decrypted, and only those still in
#   reach with their surnames known have their given names decrypted and are scored
#   (``_in_reach``).
# Both blocking statements (this lookup and ``resolution.batch``'s, one per import batch) join
# the key rows ``k`` to the identity ``b`` looked up (year, slack, born, other_dates_hopeless)
# with these fragments: the birth filter and how many name keys a person shares with it.
SHARED_KEYS = """count(*)::float / max(CASE WHEN b.year IS NULL OR k.birth_year IS NULL THEN 1
        ELSE greatest(1, least(b.year + b.slack, k.birth_year + s.slack)
                         - greatest(b.year - b.slack, k.birth_year - s.slack) + 1) END) AS shared"""
# A key row's slack by its precision (``identity.BIRTH_SLACK``; unknown: ``blocking.UNKNOWN_SLACK``),
# spelled out from those constants: a jsonb parameter looked up per key row cost a third of the
# lookup statement for an imprecise birth (thousands of key rows).
SLACK_OF_ROW = "".join(("CASE k.birth_precision ", *(f"WHEN '{BirthPrecision(p).value}' THEN {int(s)} " for p, s in BIRTH_SLACK.items()),
                        f"ELSE {int(blocking.UNKNOWN_SLACK)} END"))
BIRTH_FILTER = "".join(("""
    CROSS JOIN LATERAL (SELECT """, SLACK_OF_ROW, """ AS slack) s
    WHERE (b.year IS NULL OR k.birth_year IS NULL OR abs(k.birth_year - b.year) <= b.slack + s.slack)
        AND NOT (b.other_dates_hopeless AND k.birth_precision = 'exact' AND k.birth_date IS NOT NULL
                 AND k.birth_date <> b.born
                 AND NOT (extract(day FROM k.birth_date) = extract(month FROM b.born)
                          AND extract(month FROM k.birth_date) = extract(day FROM b.born)))"""))
GROUPED = "k.person_id"  # a person's key rows all carry the same birth: max() is that row's overlap
# Among people sharing as many keys, the nearer birth year first (year_same outweighs year_close),
# then the id: the cut at ``MAX_CANDIDATES`` (hundreds of single-key namesakes for an imprecise
# birth at 1,000,000 people) is the same whatever plan the server picks. ``blocking.candidate_ids``
# ranks the same way.
BIRTH_GAP = f"min(coalesce(abs(k.birth_year - b.year), {int(blocking.UNKNOWN_SLACK)})) AS gap"
RANKING = "shared DESC, gap, person_id"
_BLOCKED = "".join(("""
WITH blocked AS (
    SELECT k.person_id, """, SHARED_KEYS, ", ", BIRTH_GAP, """
    FROM (SELECT %(year)s::int AS year, %(slack)s::int AS slack, %(date)s::date AS born,
                 %(other_dates_hopeless)s::boolean AS other_dates_hopeless) b
    JOIN registry_personblockingkey k ON k.key = ANY(%(keys)s::varchar[])""", BIRTH_FILTER, """
    GROUP BY """, GROUPED, " ORDER BY ", RANKING, """ LIMIT %(limit)s
)"""))
_COLUMNS = """
SELECT p.id, p.given_names, p.first_surname, p.second_surname, p.aliases, p.sex, p.birth_date, p.birth_year,
    p.birth_precision, p.nationality"""
_NAMES_FROM = """
FROM registry_person p JOIN blocked b ON b.person_id = p.id
WHERE p.status = 'active' AND NOT (p.id = ANY(%(exclude)s::uuid[]))
"""
_DOCUMENT_HOLDERS = """, found AS (
    SELECT person_id FROM blocked
    UNION SELECT person_id FROM registry_identitydocument WHERE number_search_bidx = ANY(%(docs)s::varchar[])
)"""
_LINKS_FROM = """,
    ARRAY(SELECT d.number_search_bidx FROM registry_identitydocument d
          WHERE d.person_id = p.id AND d.status <> 'superseded') AS doc_bidx,
    ARRAY(SELECT d.kind || ':' || d.issuing_country FROM registry_identitydocument d
          WHERE d.person_id = p.id AND d.status <> 'superseded') AS doc_kinds,
    (SELECT m.group_id FROM registry_groupmembership m WHERE m.person_id = p.id
     ORDER BY m.joined_at DESC LIMIT 1) AS latest_group
FROM registry_person p JOIN found f ON f.person_id = p.id
WHERE p.status = 'active' AND NOT (p.id = ANY(%(exclude)s::uuid[]))
"""
# The two statements, assembled from the constants above only: every value is a bound parameter.
NAMES_SQL = "".join((_BLOCKED, _COLUMNS, _NAMES_FROM))
CANDIDATES_SQL = "".join((_BLOCKED, _DOCUMENT_HOLDERS, _COLUMNS, _LINKS_FROM))


def _candidates(identity: Identity, exclude: set, threshold: float) -> list[tuple]:
    """(pk, decrypted identity) of the blocked candidates that could reach ``threshold``,
    ``exclude`` left out. The ``Person`` rows are loaded later, for the matches a caller shows."""
    if identity.key is not None:
        exclude = {*exclude, identity.key}
    if connection.vendor != "postgresql":
        ids = [pk for pk in blocking.candidate_ids(identity) if pk not in exclude]
        return list(identities(Person.objects.filter(pk__in=ids, status=PersonStatus.ACTIVE)).items())
    linked = bool(identity.documents or identity.document_kinds or identity.group)
    ceiling = Ceiling(identity)
    rows = _prepared(CANDIDATES_SQL if linked else NAMES_SQL, {
        "keys": sorted(blocking.query_keys(identity)), "limit": blocking.MAX_CANDIDATES,
        "docs": sorted(identity.documents), "exclude": [str(pk) for pk in exclude],
        "year": identity.birth_year, "slack": identity.slack,
        "other_dates_hopeless": other_dates_hopeless(ceiling, threshold), "date": identity.birth_date,
    })
    # Found through a document, a row may be born out of range: the bounds below veto it too.
    return list(_in_reach(ceiling, rows, threshold))


def _in_reach(ceiling: Ceiling, rows, threshold: float):
    """(pk, decrypted identity) of the candidates rows whose score could still reach
    ``threshold``; exact bounds (``scoring.Ceiling``): a row skipped here would score below it.
    Most rows of a lookup with an imprecise birth are namesakes blocked on a given name and a
    year, whose surnames all differ (-8.3 bits): their surnames are decrypted (one column at a
    time) and found different by ``names.SurnameProbe`` before anything else is computed. The
    others are bounded from their clear columns, then with their surname level; the given
    names of those still in reach are decrypted and the caller scores them."""
    rows = list(rows)
    differ_hopeless = ceiling.score({"surnames": "differ"}) < threshold
    for row, (plain, names) in zip(rows, surname_variants([row[2:5] for row in rows]), strict=True):
        surnames = ceiling.surnames(names)
        if differ_hopeless and surnames == "differ":
            continue
        fixed = ceiling.clear_levels(_identity_of_row(row))
        if fixed is None or ceiling.score({**fixed, "surnames": surnames}) < threshold:
            continue
        yield row[0], _identity_of_row(row, {"given_names": decrypt_column("given_names", [row[1]])[0],
                                             **dict(zip(SURNAME_COLUMNS, plain, strict=True))})


def other_dates_hopeless(ceiling: Ceiling, threshold: float) -> bool:
    """Whether nobody found through the blocking keys with another exact birth date (not
    day/month transposed) can reach ``threshold`` against the identity of ``ceiling``, whatever
    the rest of their record says. People holding one of the identity's documents are found
    through the document branch of the statements, which this filter does not touch, so here the
    document level is at best the best one but "same"."""
    identity = ceiling.a
    if identity.precision != BirthPrecision.EXACT or identity.birth_date is None:
        return False
    fixed = {"birth": "date_differs", "document": best_document_level_but_same(identity, ceiling.weights)}
    return ceiling.score(fixed) < threshold


def _prepared(query: str, params: dict) -> list[tuple]:
    """Rows of ``query`` run as a server-side prepared statement on Django's connection.

    Parsing and planning the candidates statement cost several times running it (0.15 + 0.28
    ms against 0.07 ms for an exact birth at 1,000,000 people); Django binds parameters on the
    client, which cannot prepare, so this one hot statement goes through a server-binding
    psycopg cursor with ``prepare=True``: psycopg keeps it per connection (a new connection
    prepares again) and the server plans it once, generically (settings: ``prepare_threshold``
    and ``plan_cache_mode``; ``DATABASE_PREPARED_STATEMENTS=false`` turns both off and this runs
    unprepared, same answers). Errors are Django's.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, params, prepare=True)
        return cursor.fetchall()


def decrypt_column(name: str, values) -> list:
    """Stored values of one ``Person`` column decrypted (its field's ``decrypt_column``)."""
    return Person._meta.get_field(name).decrypt_column(values)


SURNAME_COLUMNS = ("first_surname", "second_surname", "aliases")  # what ``Ceiling.surnames`` reads


def surname_variants(sealed: list) -> list[tuple[tuple, tuple]]:
    """For rows of stored ``SURNAME_COLUMNS`` values: those columns decrypted (one call per
    column, a tuple per row) and the name variants whose surnames ``scoring.Ceiling.surnames``
    compares (the record's own surnames and each alias), row by row."""
    columns = [decrypt_column(name, [row[i] for row in sealed]) for i, name in enumerate(SURNAME_COLUMNS)]
    return [(plain, (SplitName.of("", plain[0], plain[1]), *(SplitName.from_alias(a) for a in plain[2] or ())))
            for plain in zip(*columns, strict=True)]


def _identity_of_row(row, plain: dict | None = None) -> Identity:
    """The identity of a candidates row with its names as decrypted in ``plain``; without
    ``plain`` a shell with the columns stored in clear only (for ``scoring.Ceiling``)."""
    pk, _given, _first, _second, _aliases, sex, born, year, precision, nationality, *links = row
    docs, kinds, group = links or ((), (), None)
    clear = {"sex": sex, "birth_date": born, "birth_year": year, "precision": precision,
             "nationality": nationality or "", "documents": docs, "document_kinds": kinds, "group": str(group or "")}
    return from_fields(pk, **plain, **clear) if plain else with_names(pk, (), **clear)


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
    return Match(other.pk, scored.score, list(scored.codes), loaded=other) if scored else None


@transaction.atomic
def record_candidates(person: Person, matches: list[Match] | None = None) -> list[DuplicateCandidate]:
    """Store the person's candidates for review (codes, not labels); decided pairs keep their
    decision, pending pairs get the new score."""
    stored = []
    for match in candidates_for_person(person) if matches is None else matches:
        a, b = sorted([person.pk, match.person_id])
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
