"""Matching a batch of new people at once (the bulk import), with the engine's own rules.

``engine.record_candidates(person)`` matches one person: a blocking query, the candidates
decrypted and scored, a ``get_or_create`` per pair. For a batch of people just registered in
file order, ``find_candidates`` does the same for all of them with

* one blocking statement for the whole batch (each person's ``blocking.query_keys`` and
  document indexes, the same ``key = ANY`` join with the same birth veto on the key rows,
  ranked by name keys shared (``blocking.overlap``) and capped per person at
  ``blocking.MAX_CANDIDATES`` like ``engine.CANDIDATES_SQL``);
* the engine's shortcuts: people whose birth rules them out dropped in the blocking statement,
  and only candidates whose best possible score (clear columns, then surnames: ``_in_reach``)
  reaches the threshold for some row decrypted whole, each once (``engine.identities``), and
  scored in memory (``scoring.score_pair``) against the rows of the batch they may match;
* a person is matched against the registry **and the people before it in the batch**, never
  the ones after it: exactly the pairs the engine finds when the people are registered and
  matched one by one in that order (pairs decided "different people" left out, as the engine
  does). The one difference: the per-person cap counts the later people of the batch too, so
  with more than ``MAX_CANDIDATES`` candidates the cut may fall elsewhere.

``record_candidates`` then stores the pairs as the engine does (pending pairs get the new
score, decided pairs are left alone) with one query and bulk INSERTs. Nothing is merged.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from registry.models import DuplicateCandidate, Person
from registry.resolution import blocking, engine
from registry.resolution.identity import with_names
from registry.resolution.scoring import Ceiling, score_pair
from registry.vocabulary import DuplicateStatus, PersonStatus

BLOCKED_SQL = "".join(("""
WITH wanted AS (
    SELECT DISTINCT w.row_no, w.key
    FROM unnest(string_to_array(%(rows)s, ',')::int[], string_to_array(%(keys)s, ',')) AS w(row_no, key)
), born AS (
    SELECT * FROM unnest(%(born_rows)s::int[], %(years)s::int[], %(slacks)s::int[], %(dates)s::date[],
                         %(hopeless)s::boolean[]) AS b(row_no, year, slack, born, other_dates_hopeless)
), blocked AS (
    SELECT w.row_no, k.person_id, """, engine.SHARED_KEYS, ", ", engine.BIRTH_GAP, """
    FROM wanted w JOIN born b ON b.row_no = w.row_no JOIN registry_personblockingkey k ON k.key = w.key""",
    engine.BIRTH_FILTER, """
    GROUP BY w.row_no, """, engine.GROUPED, """
), ranked AS (
    SELECT row_no, person_id, row_number() OVER (PARTITION BY row_no ORDER BY """, engine.RANKING, """) AS rank
    FROM blocked
)
SELECT row_no, person_id, false AS by_document FROM ranked WHERE rank <= %(limit)s
UNION
SELECT d.row_no, i.person_id, true
FROM unnest(string_to_array(%(doc_rows)s, ',')::int[], string_to_array(%(docs)s, ',')) AS d(row_no, bidx)
JOIN registry_identitydocument i ON i.number_search_bidx = d.bidx
"""))
RECORD_REASON = "found at import"
# The columns ``engine.identities`` compares (and the reference the import reports).
COMPARED = ("id", "reference", "status", "given_names", "first_surname", "second_surname", "aliases", "sex",
            "birth_date", "birth_year", "birth_precision", "nationality")


def _blocked(ceilings: list[Ceiling], threshold: float) -> tuple[dict[int, set], dict[int, set]]:
    """Row number -> ids of the people sharing a blocking key or a document, and row number ->
    ids of those found through a document (one query on PostgreSQL; elsewhere the engine's
    portable lookup per person, every candidate counted as possibly sharing a document)."""
    identities = [ceiling.a for ceiling in ceilings]
    if connection.vendor != "postgresql":
        found = {n: set(blocking.candidate_ids(identity)) for n, identity in enumerate(identities)}
        return found, found
    rows, keys, doc_rows, docs = [], [], [], []
    born = {"born_rows": list(range(len(identities))), "years": [i.birth_year for i in identities],
            "slacks": [i.slack for i in identities], "dates": [i.birth_date for i in identities],
            "hopeless": [engine.other_dates_hopeless(c, threshold) for c in ceilings]}
    for n, identity in enumerate(identities):
        wanted = blocking.query_keys(identity)
        rows.extend([n] * len(wanted))
        keys.extend(sorted(wanted))
        doc_rows.extend([n] * len(identity.documents))
        docs.extend(sorted(identity.documents))
    found: dict[int, set] = {}
    with connection.cursor() as cursor:
        # Thousands of keys: one text parameter each side (hex keys, no commas) instead of
        # arrays, which the driver would quote element by element in Python.
        cursor.execute(BLOCKED_SQL, {
            "rows": ",".join(map(str, rows)), "keys": ",".join(keys), "limit": blocking.MAX_CANDIDATES,
            "doc_rows": ",".join(map(str, doc_rows)), "docs": ",".join(docs), **born,
        })
        by_document: dict[int, set] = {}
        for n, pk, through_document in cursor.fetchall():
            found.setdefault(n, set()).add(pk)
            if through_document:
                by_document.setdefault(n, set()).add(pk)
    return found, by_document


def _decided_different(ids: list) -> dict:
    pairs = DuplicateCandidate.objects.filter(
        Q(person_a_id__in=ids) | Q(person_b_id__in=ids), status=DuplicateStatus.DIFFERENT_PEOPLE
    ).values_list("person_a_id", "person_b_id")
    found: dict = {}
    for a, b in pairs:
        found.setdefault(a, set()).add(b)
        found.setdefault(b, set()).add(a)
    return found


def _in_reach(ceilings: list[Ceiling], blocked: dict, by_document: dict, outside: set, threshold: float) -> dict[int, set]:
    """Row number -> the registry's people (of ``outside``) whose score with that row could still
    reach ``threshold``: the engine's bounds (``engine._in_reach``), clear columns and surnames
    read for each candidate once (surnames decrypted a column at a time), documents and groups
    (not loaded yet) taken at their best. Only these are decrypted whole and scored."""
    # The surnames as stored (a Cast has no field converter), decrypted a column per call.
    rows = list(Person.objects.filter(pk__in=outside, status=PersonStatus.ACTIVE).annotate(
        **{f"sealed_{name}": Cast(name, TextField()) for name in engine.SURNAME_COLUMNS}).values_list(
        "pk", "sex", "birth_date", "birth_year", "birth_precision", "nationality",
        *(f"sealed_{name}" for name in engine.SURNAME_COLUMNS)))
    shells = {}
    for (pk, sex, born, year, precision, nationality, *_sealed), (_plain, names) in zip(
            rows, engine.surname_variants([row[6:] for row in rows]), strict=True):
        shells[pk] = with_names(pk, (), sex=sex, birth_date=born, birth_year=year, precision=precision,
                                nationality=str(nationality or "")), names
    found: dict[int, set] = {}
    for n, pks in blocked.items():
        ceiling = ceilings[n]
        for pk in pks:
            if pk not in shells:
                continue
            shell, names = shells[pk]
            fixed = ceiling.clear_levels(shell, links_known=False, shares_document=pk in by_document.get(n, ()))
            if fixed is not None and ceiling.score({**fixed, "surnames": ceiling.surnames(names)}) >= threshold:
                found.setdefault(n, set()).add(pk)
    return found


def find_candidates(people: list[Person], *, threshold: float | None = None) -> list[list[engine.Match]]:
    """For each person (in order), their candidates at or above ``threshold`` (default:
    possible) among the registry's active people and the people before them in the list, best
    first: ``engine.candidates_for_person`` as it would answer right after each was registered."""
    threshold = engine.possible_threshold() if threshold is None else threshold
    own = engine.identities(people)
    identities = [own[p.pk] for p in people]
    ceilings = [Ceiling(identity) for identity in identities]  # one per row: its bounds
    blocked, by_document = _blocked(ceilings, threshold)
    position = {p.pk: n for n, p in enumerate(people)}
    outside = {pk for pks in blocked.values() for pk in pks if pk not in position}
    in_reach = _in_reach(ceilings, blocked, by_document, outside, threshold)
    known = {**engine.active_identities({pk for pks in in_reach.values() for pk in pks}), **own}
    different = _decided_different(list(position))
    result = []
    for n, person in enumerate(people):
        skip = different.get(person.pk, set())
        matches = []
        for pk in blocked.get(n, ()):
            if pk in skip or pk not in known or position.get(pk, -1) >= n:  # later in the batch, or itself
                continue
            if pk in outside and pk not in in_reach.get(n, ()):
                continue
            scored = score_pair(identities[n], known[pk])
            if scored is not None and scored.score >= threshold:
                matches.append(engine.Match(pk, scored.score, list(scored.codes)))
        result.append(sorted(matches, key=lambda m: (-m.score, str(m.person_id))))
    # Person rows for the matches only (the import shows their references), in one query.
    persons = {p.pk: p for p in people}
    matched = {m.person_id for found in result for m in found} - persons.keys()
    persons.update(Person.objects.filter(pk__in=matched).only(*COMPARED).in_bulk())
    for found in result:
        for match in found:
            match.loaded = persons[match.person_id]
    return result


def record_candidates(actor, people: list[Person], matches: list[list[engine.Match]]) -> list[list[DuplicateCandidate]]:
    """Store each person's matches for review like ``engine.record_candidates`` (codes, not
    labels; decided pairs keep their decision, pending pairs get the new score) with one query
    for the pairs already stored and bulk INSERTs (history rows name ``actor``)."""
    from registry.services import create_with_history

    ids = [p.pk for p in people]
    stored = {(c.person_a_id, c.person_b_id): c
              for c in DuplicateCandidate.objects.filter(Q(person_a_id__in=ids) | Q(person_b_id__in=ids))}
    new, changed, result = [], [], []
    for person, found in zip(people, matches, strict=True):
        kept = []
        for match in found:
            a, b = sorted([person.pk, match.person_id])
            pair = stored.get((a, b))
            if pair is None:
                pair = stored[(a, b)] = DuplicateCandidate(person_a_id=a, person_b_id=b, score=match.score, reasons=match.codes)
                new.append(pair)
            elif pair.status != DuplicateStatus.PENDING:
                continue
            elif (pair.score, pair.reasons) != (match.score, match.codes):
                pair.score, pair.reasons = match.score, match.codes
                if not pair._state.adding:  # stored before: an UPDATE (a new one is inserted below)
                    changed.append(pair)
            kept.append(pair)
        result.append(kept)
    create_with_history(DuplicateCandidate, new, actor, RECORD_REASON)
    for pair in dict.fromkeys(changed):
        pair.save(update_fields=["score", "reasons"])
    return result
