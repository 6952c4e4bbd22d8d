"""The matching engine (issue 5): blocking recall on a fixed synthetic set, scoring reasons,
thresholds, the nightly scan, and that nothing but blind keys reaches the database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import translation

from registry.models import (
    DuplicateCandidate,
    MatchingRun,
    MatchingRunStatus,
    Person,
    PersonBlockingKey,
)
from registry.resolution import blocking, engine, evaluation, synthetic
from registry.resolution.identity import from_fields
from registry.resolution.importer import runner
from registry.resolution.scoring import Ceiling, score_pair
from registry.resolution.weights import current
from registry.vocabulary import DuplicateStatus
from tests.registry.factories import register_person

FIXED = {"people": 150, "seed": 11}


def ident(key, given="José Ángel", first="Hernández", second="Gómez", **extra):
    base = {"sex": "m", "birth_date": dt.date(1992, 3, 14), "nationality": "HN"}
    return from_fields(key, given_names=given, first_surname=first, second_surname=second, **{**base, **extra})


# --- scoring: pure functions, no database ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({}, {"same_names", "same_given_names", "same_surnames", "same_birth_date", "same_sex", "same_nationality"}),
        ({"first": "Gómez", "second": "Hernández"}, {"surnames_swapped", "names_reordered", "same_names"}),
        ({"given": "JOSE ANGEL", "first": "Hernandez", "second": "Gomez"}, {"same_names", "same_surnames"}),
        ({"second": ""}, {"surname_missing"}),
        ({"first": "Hernándes"}, {"surnames_similar"}),
        ({"given": "Pepe"}, {"given_name_nickname"}),
        ({"given": "Ángel"}, {"given_names_partial"}),
        ({"birth_date": None, "birth_year": 1992, "precision": "year"}, {"same_birth_year"}),
        ({"birth_date": None, "birth_year": 1990, "precision": "estimated"}, {"close_birth_year"}),
        ({"nationality": "GT"}, {"different_nationality"}),
    ],
)
def test_scoring_reasons(changes, codes):
    a = ident(1)
    fields = {"given": "José Ángel", "first": "Hernández", "second": "Gómez", **changes}
    b = ident(2, fields.pop("given"), fields.pop("first"), fields.pop("second"), **fields)
    scored = score_pair(a, b)
    assert scored is not None
    assert codes <= set(scored.codes), scored.codes
    assert scored.score >= current().possible


def test_transposed_day_and_month_of_birth():
    a, b = ident(1, birth_date=dt.date(1992, 3, 4)), ident(2, birth_date=dt.date(1992, 4, 3))
    scored = score_pair(a, b)
    assert "birth_day_month_transposed" in scored.codes and scored.score >= current().probable
    other_day = score_pair(a, ident(3, birth_date=dt.date(1992, 3, 5)))
    assert "birth_date_differs" in other_day.codes and other_day.score < current().possible


def test_same_document_outweighs_a_misspelt_name():
    a = ident(1, documents={"d1"}, document_kinds={"passport:HN"})
    b = ident(2, "Josue", "Ernandes", "", documents={"d1"}, document_kinds={"passport:HN"})
    scored = score_pair(a, b)
    assert "same_document" in scored.codes and scored.score >= current().probable
    conflict = score_pair(a, ident(3, documents={"d2"}, document_kinds={"passport:HN"}))
    assert "different_document" in conflict.codes and conflict.score < score_pair(a, ident(4)).score


def test_incompatible_births_are_a_veto_and_estimates_add_their_slack():
    assert score_pair(ident(1), ident(2, birth_date=dt.date(1993, 3, 14))) is None  # exact vs exact
    estimated = {"birth_date": None, "precision": "estimated"}
    assert score_pair(ident(1, birth_year=1989, **estimated), ident(2, birth_year=1995, **estimated)) is not None
    assert score_pair(ident(1, birth_year=1988, **estimated), ident(2, birth_year=1995, **estimated)) is None


def test_family_members_are_not_matched():
    father = ident(1, "Marvin", "López", "Cux", birth_date=dt.date(1985, 3, 12), group="g1")
    son = ident(2, "Kevin", "López", "Cux", birth_date=dt.date(2016, 7, 1), group="g1")
    brother = ident(3, "Marvin", "López", "Cux", sex="m", birth_date=dt.date(1985, 7, 2), group="g1")
    assert score_pair(father, son) is None
    assert score_pair(father, brother).score < current().possible


def test_sex_disagreement_lowers_the_score_and_different_names_stay_below_possible():
    other_sex = score_pair(ident(1), ident(2, sex="f"))
    assert "different_sex" in other_sex.codes and other_sex.score < score_pair(ident(1), ident(2)).score
    assert score_pair(ident(1, birth_date=None, birth_year=1992, precision="year"),
                      ident(2, sex="f", birth_date=None, birth_year=1992, precision="year")).score < current().possible
    assert score_pair(ident(1), ident(2, "Pedro", "Castillo", "Ruiz")).score < current().possible


def test_thresholds_are_data_and_ordered():
    weights = current()
    assert 0 < weights.possible < weights.probable <= 1
    assert weights.weight("document", "same") > 10 and weights.weight("surnames", "differ") < -5
    assert weights.weight("given", "missing") == 0


def test_reason_labels_are_translated_only_when_shown():
    from registry.resolution.reasons import label, to_code

    with translation.override("en"):
        assert label("surnames_swapped") == "first and second surnames swapped"
    assert label("unknown_code") == "unknown_code"
    assert to_code("names in another order") == "names_reordered" and to_code("same_names") == "same_names"


# --- blocking: every true pair of a fixed synthetic set is a candidate ---------------------------


def test_blocking_finds_every_true_pair_in_memory():
    records = synthetic.generate(2000, seed=11)
    truth = synthetic.true_pairs(records)
    blocked = evaluation.blocked_pairs([evaluation.identity_of(r) for r in records])
    assert len(truth) > 700
    assert truth <= blocked
    assert len(blocked) < 5 * len(truth)  # and it stays selective (not everyone against everyone)


@pytest.fixture
def imported_fixed_set(supervisor, place, tmp_path, settings):
    """The fixed synthetic set imported through the importer (as in bench/dedup_quality.py)."""
    import csv

    settings.IMPORT_DIR = tmp_path / "imports"
    records = synthetic.generate(FIXED["people"], seed=FIXED["seed"])
    path = tmp_path / "fixed.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0].as_row()))
        writer.writeheader()
        writer.writerows(r.as_row() for r in records)
    result = runner.run_import(path, runner.ImportOptions(
        actor=supervisor, place_code=place.code, legal_basis="public_interest", batch_size=100,
    ))
    assert result.counts["failed"] == 0, result.lines[:5]
    return records, result


def test_blocking_through_the_database_finds_every_true_pair(imported_fixed_set):
    records, _result = imported_fixed_set
    people = list(Person.objects.order_by("created_at", "pk"))
    assert len(people) == len(records)
    by_row = dict(zip([r.row for r in sorted(records, key=lambda r: r.row)], people, strict=True))
    identities = engine.identities(people)
    missing = []
    for a, b in synthetic.true_pairs(records):
        found = set(blocking.candidate_ids(identities[by_row[a].pk]))
        if by_row[b].pk not in found:
            missing.append((a, b))
    assert missing == []


def test_import_of_the_fixed_set_queues_the_true_pairs(imported_fixed_set):
    records, result = imported_fixed_set
    truth = synthetic.true_pairs(records)
    people = list(Person.objects.order_by("created_at", "pk"))
    row_of = {p.pk: r.row for p, r in zip(people, sorted(records, key=lambda r: r.row), strict=True)}
    queued = {tuple(sorted((row_of[a], row_of[b]))) for a, b in DuplicateCandidate.objects.values_list("person_a", "person_b")}
    quality = evaluation.quality(queued, truth)
    assert quality["recall"] >= 0.95 and quality["precision"] >= 0.9, quality
    assert result.counts["duplicates"] > 0


def test_database_holds_only_blind_keys(supervisor, place):
    register_person(supervisor, place, given_names="Wilmer", first_surname="Tzul", second_surname="Ixcot", sex="m")
    keys = list(PersonBlockingKey.objects.values_list("key", flat=True))
    assert keys and all(k.startswith("b:") and len(k) == 10 for k in keys)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM registry_personblockingkey")
        dump = " ".join(k for (k,) in cursor.fetchall()).lower()
    assert not any(word in dump for word in ("wilmer", "tzul", "ixcot", "uilmer", "1990"))


def test_the_lookup_is_prepared_once_with_a_generic_plan(supervisor, place):
    """The candidate lookup runs as a server-side prepared statement, planned once and
    generically (settings: ``prepare_threshold``, ``plan_cache_mode``): parsing and planning it
    cost several times running it. Under Django's default (``prepare_threshold`` None) psycopg
    silently prepared nothing, ``prepare=True`` notwithstanding, and every lookup was parsed and
    planned again."""
    register_person(supervisor, place, given_names="Wilmer", first_surname="Tzul", second_surname="Ixcot", sex="m",
                    nationality="GT", birth_precision="year", birth_year=1990)
    for year in (1989, 1990, 1991):
        found = engine.candidates_for(given_names="Wilmer", first_surname="Tzul", second_surname="Ixcot", sex="m",
                                      nationality="GT", birth_year=year, precision="year")
        assert [m.person.first_surname for m in found] == ["Tzul"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%JOIN registry_personblockingkey k ON k.key = ANY($%"])
        plans = cursor.fetchall()
    assert plans == [(3, 0)]


# --- thresholds and the queue --------------------------------------------------------------------


def test_probable_and_possible_both_go_to_the_queue_and_nothing_merges(supervisor, place):
    original = register_person(supervisor, place, given_names="José Ángel", first_surname="Hernández",
                               second_surname="Gómez", sex="m", nationality="HN", birth_date=dt.date(1992, 3, 14)).person
    probable = register_person(supervisor, place, given_names="Jose Angel", first_surname="Gomez",
                               second_surname="Hernandez", sex="m", nationality="HN", birth_date=dt.date(1992, 3, 14)).person
    possible = register_person(supervisor, place, given_names="Ángel", first_surname="Hernández",
                               second_surname="", sex="m", nationality="HN", birth_precision="year",
                               birth_year=1991).person
    stranger = register_person(supervisor, place, given_names="Pedro", first_surname="Castillo",
                               second_surname="Ruiz", sex="m", nationality="HN", birth_date=dt.date(1992, 3, 14)).person
    matches = {m.person.pk: m for m in engine.candidates_for_person(original)}
    weights = current()
    assert matches[probable.pk].score >= weights.probable and matches[probable.pk].probable
    assert weights.possible <= matches[possible.pk].score < weights.probable and not matches[possible.pk].probable
    assert stranger.pk not in matches
    engine.record_candidates(original)
    pairs = DuplicateCandidate.objects.all()
    assert pairs.count() == 2 and {p.status for p in pairs} == {DuplicateStatus.PENDING}
    assert Person.objects.filter(status="active").count() == 4


# --- the nightly scan ------------------------------------------------------------------------------


def test_nightly_scan_records_progress_and_only_rescans_changes(supervisor, place):
    from registry.resolution.scan import scan_changed_people

    for given, born in (("José Ángel", (1992, 3, 14)), ("Jose Angel", (1992, 3, 14)), ("Pedro", (1992, 7, 20))):
        register_person(supervisor, place, given_names=given, first_surname="Hernández", second_surname="Gómez",
                        sex="m", birth_date=dt.date(*born))
    DuplicateCandidate.objects.all().delete()
    run = scan_changed_people()
    assert (run.status, run.total, run.scanned) == (MatchingRunStatus.DONE, 3, 3)
    assert run.pairs_found >= 1 and DuplicateCandidate.objects.count() == 1
    again = scan_changed_people()
    assert (again.total, again.scanned, again.since) == (0, 0, run.last_modified_seen)
    assert MatchingRun.objects.count() == 2


def test_a_running_scan_blocks_a_second_one(db):
    from registry.resolution.scan import scan_changed_people

    MatchingRun.objects.create(kind="nightly")
    assert scan_changed_people() is None


def test_weights_file_is_valid_json_with_every_level():
    import json

    from registry.resolution.weights import WEIGHTS_FILE

    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    for field in ("given", "surnames", "birth", "sex", "nationality", "document", "group"):
        assert data["fields"][field]
        for level in data["fields"][field].values():
            assert 0 < level["m"] < 1 and 0 < level["u"] < 1


def test_estimate_match_weights_prints_quality_without_writing(capsys):
    from django.core.management import call_command

    from registry.resolution.weights import WEIGHTS_FILE

    before = WEIGHTS_FILE.read_bytes()
    call_command("estimate_match_weights", "--people", "300", "--seed", "3")
    out = capsys.readouterr().out
    assert "best F1" in out and "blocked pairs" in out
    assert WEIGHTS_FILE.read_bytes() == before


def test_stored_reasons_are_codes_shown_as_labels(supervisor, place):
    original = register_person(supervisor, place, given_names="José Ángel", first_surname="Hernández",
                               second_surname="Gómez", sex="m", nationality="HN", birth_date=dt.date(1992, 3, 14)).person
    register_person(supervisor, place, given_names="Jose Angel", first_surname="Gomez", second_surname="Hernandez",
                    sex="m", nationality="HN", birth_date=dt.date(1992, 3, 14))
    [pair] = engine.record_candidates(original)
    pair.refresh_from_db()
    assert "surnames_swapped" in pair.reasons
    with translation.override("en"):
        assert "first and second surnames swapped" in pair.reason_labels


# --- the lookup's shortcuts give the scoring's answer --------------------------------------------


def _reference_matches(identity, threshold):
    """What the engine must answer: every blocked candidate decrypted and scored, nothing skipped."""
    ids = [pk for pk in blocking.candidate_ids(identity) if pk != identity.key]
    found = []
    for pk, other in engine.identities(Person.objects.filter(pk__in=ids, status="active")).items():
        scored = score_pair(identity, other)
        if scored is not None and scored.score >= threshold:
            found.append((pk, scored.score, list(scored.codes)))
    return sorted(found, key=lambda m: (-m[1], str(m[0])))


@pytest.mark.parametrize("threshold", [0.05, None])
def test_sql_shortcuts_agree_with_scoring(imported_fixed_set, threshold):
    """The birth veto read off the key rows, the names-only statement for identities without
    documents or group, and skipping candidates whose best possible score is too low change the
    speed of a lookup, never its answer (PostgreSQL path against the decrypt-everything one)."""
    threshold = current().possible if threshold is None else threshold
    people = list(Person.objects.order_by("created_at", "pk"))
    identities = engine.identities(people)
    checked = with_links = 0
    for person in people:
        full = identities[person.pk]
        bare = from_fields(None, given_names=person.given_names, first_surname=person.first_surname,
                           second_surname=person.second_surname, aliases=person.aliases, sex=person.sex,
                           birth_date=person.birth_date, birth_year=person.birth_year,
                           precision=person.birth_precision, nationality=str(person.nationality or ""))
        for identity in (full, bare):
            got = [(m.person_id, m.score, m.codes) for m in engine.match_identity(identity, threshold=threshold)]
            want = [m for m in _reference_matches(identity, threshold) if identity.key is not None or m[0] != person.pk]
            if identity.key is None:
                got = [m for m in got if m[0] != person.pk]
            assert got == want, (person.reference, identity.key is None)
            checked += 1
            with_links += bool(identity.documents or identity.group)
    assert checked == 2 * len(people) and with_links > 10


def test_the_bounds_before_decrypting_bound_every_score():
    records = synthetic.generate(300, seed=5)
    idents = [evaluation.identity_of(r) for r in records]
    pairs = evaluation.blocked_pairs(idents)
    by_key = {i.key: i for i in idents}
    assert len(pairs) > 100
    for a, b in pairs:
        scored = score_pair(by_key[a], by_key[b])
        ceiling = Ceiling(by_key[a])
        fixed = ceiling.clear_levels(by_key[b])  # names unknown: clear columns only
        unlinked = ceiling.clear_levels(by_key[b], links_known=False)  # documents and group not loaded either
        assert (scored is None) == (fixed is None) == (unlinked is None)
        if scored is not None:
            surnames = ceiling.surnames(by_key[b].names)  # surnames known, given names not
            assert (ceiling.score(unlinked) >= ceiling.score(fixed)
                    >= ceiling.score({**fixed, "surnames": surnames}) >= scored.score)


def test_the_surname_probe_never_hides_agreeing_surnames():
    """``SurnameProbe.may_agree`` is False only where ``compare_surnames`` says "differ" for every
    pair of name variants (blocked pairs and random pairs of the synthetic people, their
    corruptions included: typos, swaps, one surname missing, accents)."""
    import random

    from registry.resolution.names import SurnameProbe, compare_surnames

    idents = [evaluation.identity_of(r) for r in synthetic.generate(400, seed=23)]
    rng = random.Random(23)
    by_key = {i.key: i for i in idents}
    pairs = [*((by_key[a], by_key[b]) for a, b in evaluation.blocked_pairs(idents)),
             *((rng.choice(idents), rng.choice(idents)) for _ in range(3000))]
    told_differ = agreed = 0
    for a, b in pairs:
        probe = SurnameProbe(a.names)
        levels = {compare_surnames(x, y)[0] for x in a.names for y in b.names if (x.first or x.second) and (y.first or y.second)}
        if not any(probe.may_agree(y) for y in b.names):
            told_differ += 1
            assert levels <= {"differ"}, (a.names, b.names)
        elif levels - {"differ"}:
            agreed += 1
    assert told_differ > 1000 and agreed > 200


def test_an_imprecise_birth_with_other_surnames_is_hopeless_and_its_given_names_stay_encrypted(supervisor, place):
    """A lookup with an estimated age meets every namesake born within its window. One whose
    surnames all differ cannot reach "possible" (no exact date to agree on: the birth's best
    level is the same year), so ``_in_reach`` drops it with only its surnames decrypted."""
    from registry.resolution.scoring import Ceiling

    same = {"given_names": "Wilmer", "sex": "m", "nationality": "GT", "age": 30, "birth_precision": "estimated"}
    match = register_person(supervisor, place, **same, first_surname="Tzul", second_surname="Ixcot").person
    namesake = register_person(supervisor, place, **same, first_surname="Pérez", second_surname="Ruiz").person
    probe = ident(None, "Wilmer", "Tzul", "Ixcot", nationality="GT", birth_date=None, birth_year=match.birth_year,
                  precision="estimated")
    assert Ceiling(probe).score({"surnames": "differ"}) < current().possible
    assert Ceiling(ident(None)).score({"surnames": "differ"}) >= current().possible  # an exact date might still agree
    decrypted = []
    real = engine.decrypt_column
    try:
        engine.decrypt_column = lambda name, values: decrypted.append((name, len(values))) or real(name, values)
        found = engine.match_identity(probe)
    finally:
        engine.decrypt_column = real
    assert [m.person_id for m in found] == [match.pk]
    assert ("first_surname", 2) in decrypted and ("given_names", 1) in decrypted
    assert sum(n for name, n in decrypted if name == "given_names") == 1
    assert namesake.pk in blocking.candidate_ids(probe)  # blocked, and dropped by the bound only


def test_the_slack_of_a_key_row_is_the_one_of_its_precision(db):
    """``engine.SLACK_OF_ROW`` spells ``identity.BIRTH_SLACK`` out in SQL; unknown precisions
    get ``blocking.UNKNOWN_SLACK`` (never filtered out)."""
    from registry.resolution.identity import BIRTH_SLACK

    cases = {**{str(p): s for p, s in BIRTH_SLACK.items()}, "": blocking.UNKNOWN_SLACK}
    with connection.cursor() as cursor:
        for precision, slack in cases.items():
            cursor.execute("".join(("SELECT ", engine.SLACK_OF_ROW, " FROM (SELECT %s::varchar AS birth_precision) k")), [precision])
            assert cursor.fetchone()[0] == slack


def test_blocking_keys_carry_the_birth_the_lookup_filters_on(supervisor, place):
    from registry import services

    person = register_person(supervisor, place, given_names="Wilmer", first_surname="Tzul", second_surname="Ixcot",
                             sex="m", birth_date=dt.date(1990, 5, 1)).person
    rows = set(PersonBlockingKey.objects.filter(person=person).values_list("birth_year", "birth_precision", "birth_date"))
    assert rows == {(1990, "exact", dt.date(1990, 5, 1))}
    person.refresh_from_db()
    services.update_person(supervisor, person, {"birth_date": None, "birth_year": 1990, "birth_precision": "year"},
                           expected_version=person.version, reason="only the year is certain")
    rows = set(PersonBlockingKey.objects.filter(person=person).values_list("birth_year", "birth_precision", "birth_date"))
    assert rows == {(1990, "year", None)}


def test_people_born_on_another_exact_date_are_not_even_fetched(supervisor, place, django_assert_num_queries):
    """With the shipped weights a different exact birth date (-10.7 bits) can never reach
    "possible": the statement drops such people while it reads the keys; a transposed date
    (4 March / 3 April) is still found."""
    same = {"given_names": "Wilmer", "first_surname": "Tzul", "second_surname": "Ixcot", "sex": "m", "nationality": "GT"}
    other_day = register_person(supervisor, place, **same, birth_date=dt.date(1990, 5, 2)).person
    transposed = register_person(supervisor, place, **same, birth_date=dt.date(1990, 4, 3)).person
    probe = ident(None, "Wilmer", "Tzul", "Ixcot", sex="m", nationality="GT", birth_date=dt.date(1990, 3, 4))
    assert Ceiling(probe).score({"birth": "date_differs"}) < current().possible
    assert [m.person_id for m in engine.match_identity(probe)] == [transposed.pk]
    captured = []
    real = engine._identity_of_row
    try:
        engine._identity_of_row = lambda row, plain=None: captured.append(row[0]) or real(row, plain)
        engine.match_identity(probe)
    finally:
        engine._identity_of_row = real
    assert other_day.pk not in captured and transposed.pk in captured


# --- year windows: a birth's keys cover every year it may be ----------------------------------


@pytest.mark.parametrize(
    ("stored", "query", "shares"),
    [
        ({"birth_date": None, "birth_year": 1990, "precision": "estimated"}, {"birth_date": dt.date(1993, 1, 2)}, True),
        ({"birth_date": None, "birth_year": 1990, "precision": "estimated"}, {"birth_date": dt.date(1994, 1, 2)}, False),
        ({"birth_date": None, "birth_year": 1990, "precision": "estimated"},
         {"birth_date": None, "birth_year": 1996, "precision": "estimated"}, True),
        ({"birth_date": None, "birth_year": 1990, "precision": "estimated"},
         {"birth_date": None, "birth_year": 1997, "precision": "estimated"}, False),
        ({"birth_date": None, "birth_year": 1990, "precision": "year"}, {"birth_date": dt.date(1991, 7, 7)}, True),
        ({"birth_date": None, "birth_year": 1990, "precision": "year"}, {"birth_date": dt.date(1992, 7, 7)}, False),
        ({"birth_date": dt.date(1990, 3, 3)}, {"birth_date": dt.date(1990, 12, 1)}, True),
        ({"birth_date": dt.date(1990, 3, 3)}, {"birth_date": dt.date(1991, 3, 3)}, False),
    ],
)
def test_keys_are_shared_exactly_when_the_births_are_compatible(stored, query, shares):
    """Stored keys cover the birth year ± the record's own slack and a query looks up its own:
    the same people as the scoring's birth veto, however imprecise either birth is."""
    a, b = ident(1, **stored), ident(2, **query)
    assert bool(blocking.stored_keys(a) & blocking.query_keys(b)) is shares
    assert (score_pair(a, b) is not None) is shares


def test_an_exact_birth_is_looked_up_at_its_own_year_only():
    exact = ident(1)
    estimated = ident(2, birth_date=None, birth_year=1992, precision="estimated")
    assert blocking.query_keys(exact) == blocking.stored_keys(exact) | blocking.query_keys(exact)
    assert len(blocking.stored_keys(estimated)) == 7 * len(blocking.stored_keys(exact))
    assert blocking.overlap(1992, 3, 1990, 0) == 1 and blocking.overlap(1992, 3, 1990, 3) == 5
    assert blocking.overlap(1992, 0, None, 0) == 1


def test_shared_keys_count_once_whatever_the_years(supervisor, place):
    """The ranking divides by the years both windows share: an estimated age stored over seven
    years does not outrank a person who shares more name keys."""


    close = register_person(supervisor, place, given_names="José Ángel", first_surname="Hernández",
                            second_surname="Gómez", sex="m", age=34, birth_precision="estimated").person
    far = register_person(supervisor, place, given_names="José", first_surname="Hernández", second_surname="Tun",
                          sex="m", age=35, birth_precision="estimated").person
    year = close.birth_year
    query = ident(None, birth_date=None, birth_year=year, precision="estimated")
    with connection.cursor() as cursor:
        cursor.execute("".join((engine._BLOCKED, " SELECT person_id, shared FROM blocked")), {
            "keys": sorted(blocking.query_keys(query)), "limit": 10, "year": year, "slack": 3,
            "other_dates_hopeless": False, "date": None,
        })
        shared = dict(cursor.fetchall())
    for person in (close, far):
        own = engine.identity_of(person)
        distinct = blocking._raw_keys(query, [0], ["m", "u"]) & blocking._raw_keys(own, [0], ["m"])
        assert shared[person.pk] == len(distinct) > 0
    assert shared[close.pk] > shared[far.pk]
    assert blocking.candidate_ids(query)[:2] == [close.pk, far.pk]


def test_migration_rewrites_the_keys_of_imprecise_births(supervisor, place):
    """Key rows written before the year windows (own year only) are replaced by the wider set;
    exact births keep theirs."""
    import importlib

    from django.apps import apps

    rewrite = importlib.import_module("registry.migrations.0006_blocking_key_year_windows").rewrite_imprecise_keys
    estimated = register_person(supervisor, place, given_names="Rigoberta", first_surname="Tum",
                                sex="f", age=46, birth_precision="estimated").person
    exact = register_person(supervisor, place, given_names="Wilmer", first_surname="Tzul", sex="m",
                            birth_date=dt.date(1990, 5, 1)).person
    identity = engine.identity_of(estimated)
    old = {"b:" + k for k in blocking.blind_index_set(blocking._raw_keys(identity, [estimated.birth_year], ["f"]),
                                                      blocking.BLOCK_DOMAIN, blocking.BLOCK_BITS)}
    PersonBlockingKey.objects.filter(person=estimated).delete()
    PersonBlockingKey.objects.bulk_create(blocking.key_rows(estimated, identity, old))
    exact_keys = set(PersonBlockingKey.objects.filter(person=exact).values_list("key", flat=True))
    rewrite(apps, None)
    assert set(PersonBlockingKey.objects.filter(person=estimated).values_list("key", flat=True)) == (
        blocking.stored_keys(identity)) != old
    assert set(PersonBlockingKey.objects.filter(person=exact).values_list("key", flat=True)) == exact_keys


def test_among_equal_sharers_the_nearer_birth_year_is_kept_at_the_cap(supervisor, place):
    """When more people share as many keys than ``MAX_CANDIDATES`` keeps, the cut prefers the
    nearer birth year, then the id, on both lookup paths and in the batch statement: the same
    candidates whatever the plan or the order people were registered in."""
    from registry.resolution import batch

    same = {"given_names": "Wilmer", "first_surname": "Tzul", "second_surname": "Ixcot", "sex": "m", "nationality": "GT"}
    far = register_person(supervisor, place, **same, birth_date=dt.date(1992, 5, 1)).person
    near = register_person(supervisor, place, **same, birth_date=dt.date(1990, 5, 1)).person
    query = ident(None, "Wilmer", "Tzul", "Ixcot", nationality="GT", birth_date=None, birth_year=1990,
                  precision="estimated")
    assert blocking.candidate_ids(query) == [near.pk, far.pk]
    assert blocking.candidate_ids(query, limit=1) == [near.pk]
    params = {"keys": sorted(blocking.query_keys(query)), "limit": 1, "year": 1990, "slack": 3,
              "other_dates_hopeless": False, "date": None}
    with connection.cursor() as cursor:
        cursor.execute("".join((engine._BLOCKED, " SELECT person_id FROM blocked")), params)
        assert [row[0] for row in cursor.fetchall()] == [near.pk]
        cursor.execute(batch.BLOCKED_SQL, {
            "rows": ",".join("0" * len(params["keys"])), "keys": ",".join(params["keys"]), "limit": 1,
            "born_rows": [0], "years": [1990], "slacks": [3], "dates": [None], "hopeless": [False],
            "doc_rows": "", "docs": ""})
        assert [row[1] for row in cursor.fetchall()] == [near.pk]


def test_an_alias_with_the_same_surnames_keeps_a_candidate_in_reach():
    """The surname bound reads every name variant: a record whose own surnames differ but whose
    alias carries the looked-up surnames is not dropped as "all surnames differ"."""
    looked_up = ident(None, "Wilmer", "Tzul", "Ixcot", birth_date=None, birth_year=1990, precision="estimated")
    plain = from_fields(1, given_names="Wilmer", first_surname="Pérez", second_surname="Ruiz", sex="m",
                        birth_year=1990, precision="year", nationality="HN")
    aliased = from_fields(2, given_names="Wilmer", first_surname="Pérez", second_surname="Ruiz", sex="m",
                          birth_year=1990, precision="year", nationality="HN", aliases=["Wilmer Tzul Ixcot"])
    ceiling = Ceiling(looked_up)
    assert ceiling.surnames(plain.names) == "differ"
    assert ceiling.surnames(aliased.names) == "both"
    assert ceiling.score({**ceiling.clear_levels(aliased), "surnames": "both"}) >= score_pair(looked_up, aliased).score
    assert score_pair(looked_up, aliased).score >= current().possible > score_pair(looked_up, plain).score


def test_a_registered_alias_is_found_by_the_lookup(supervisor, place):
    """Through the database: the alias column is decrypted with the surnames and keeps the
    record in reach, the record without it is dropped unscored."""
    same = {"given_names": "Wilmer", "first_surname": "Pérez", "second_surname": "Ruiz", "sex": "m",
            "nationality": "GT", "birth_date": None, "birth_year": 1990, "birth_precision": "year"}
    aliased = register_person(supervisor, place, **same, aliases=["Wilmer Tzul Ixcot"]).person
    plain = register_person(supervisor, place, **same).person
    looked_up = ident(None, "Wilmer", "Tzul", "Ixcot", nationality="GT", birth_date=None, birth_year=1990,
                      precision="estimated")
    assert {aliased.pk, plain.pk} <= set(blocking.candidate_ids(looked_up))
    assert [m.person_id for m in engine.match_identity(looked_up)] == [aliased.pk]
