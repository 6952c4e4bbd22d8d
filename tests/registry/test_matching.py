"""Search and duplicate candidates through blind indexes (SECURITY.md bad input 4)."""

from __future__ import annotations

import datetime as dt
import itertools
import unicodedata

import pytest
from django.utils import translation

from registry import matching, reference, services
from registry.models import DuplicateCandidate
from registry.vocabulary import BirthPrecision, DocumentKind, DuplicateStatus
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person


@pytest.fixture
def place(db):
    return PlaceFactory()


@pytest.fixture
def registrar(make_user, place):
    return make_user("registrar", places=[place], agency=AgencyFactory())


@pytest.fixture
def jose(registrar, place):
    return register_person(registrar, place, given_names="José", first_surname="Pérez", second_surname="", sex="m").person


@pytest.fixture
def others(registrar, place):
    return [
        register_person(registrar, place, given_names=g, first_surname=s, second_surname="").person
        for g, s in (("María", "López"), ("Josefina", "Ramírez"), ("Pedro", "Castillo"))
    ]


@pytest.mark.parametrize(
    "text",
    [
        "jose perez", "José Pérez", unicodedata.normalize("NFD", "José Pérez"), "JOSE PEREZ", "JOSÉ PÉREZ",
        "José  Pérez ", "Pérez, José", "perez jose", "Jose Peres", "Pérez",
    ],
)
def test_name_search_is_accent_case_order_and_typo_tolerant(registrar, jose, others, text):
    found = matching.search(registrar, text)
    assert found and found[0].pk == jose.pk
    assert not set(found) & {others[0], others[2]}


def test_phonetic_typo_gonsalez(registrar, place):
    gonzalez = register_person(registrar, place, given_names="Luis", first_surname="González", second_surname="").person
    register_person(registrar, place, given_names="Luisa", first_surname="Gómez", second_surname="")
    assert [p.pk for p in matching.search(registrar, "Gonsalez")] == [gonzalez.pk]
    assert gonzalez.pk in {p.pk for p in matching.search(registrar, "luis gonsales")}


def test_search_by_reference_in_any_form(registrar, jose, others):
    shown = reference.display(jose.reference)
    for text in (jose.reference, shown, shown.lower(), f" {shown.replace('-', ' ')} "):
        assert [p.pk for p in matching.search(registrar, text)] == [jose.pk]


def _nine_letter_name_that_checks_as_a_reference() -> tuple[str, str]:
    """A real-looking 'given surname' whose letters happen to pass the reference check."""
    given = ["Ana", "Eva", "Rosa", "Sara", "Nora", "Alba", "Erika", "Diana", "Karen", "Berta"]
    surnames = ["Paz", "Gil", "Vera", "Nava", "Mena", "Rosas", "Reyes", "Mejia", "Ayala", "Baeza", "Meza", "Sosa"]
    for g, s in itertools.product(given, surnames):
        if len(g + s) == 9 and reference.normalise(g + s):
            return g, s
    raise AssertionError("no such name in the list")


def test_a_name_that_looks_like_a_reference_is_still_found_by_name(registrar, place):
    given, surname = _nine_letter_name_that_checks_as_a_reference()
    person = register_person(registrar, place, given_names=given, first_surname=surname, second_surname="").person
    assert person.pk in {p.pk for p in matching.search(registrar, f"{given} {surname}")}


def test_search_by_document_number(registrar, place, jose, others):
    services.add_document(registrar, jose, kind=DocumentKind.PASSPORT, number="G1234567", issuing_country="GT")
    services.add_document(registrar, others[0], kind=DocumentKind.PASSPORT, number="G7654321", issuing_country="GT")
    for text in ("G1234567", "g 1234 567", "G-1234567"):
        assert [p.pk for p in matching.search(registrar, text)] == [jose.pk]
    assert matching.search(registrar, "G0000000") == []


def test_search_shows_only_visible_people(registrar, jose, make_user):
    elsewhere = make_user("registrar", places=[PlaceFactory()], agency=AgencyFactory())
    assert matching.search(elsewhere, "José Pérez") == []
    assert matching.search(elsewhere, jose.reference) == []
    assert matching.search(registrar, "   ") == []


# --- duplicate candidates -----------------------------------------------------------------------


@pytest.fixture
def original(registrar, place):
    return register_person(
        registrar, place, given_names="José Ángel", first_surname="Hernández", second_surname="Gómez", sex="m",
        nationality="HN", birth_date=dt.date(1992, 3, 14),
    ).person


def test_candidates_for_a_near_duplicate_with_reasons(registrar, place, original, others):
    matches = matching.candidates_for(
        given_names="Jose Angel", first_surname="Gomez", second_surname="Hernandez", sex="m", nationality="HN",
        birth_year=1992, precision=BirthPrecision.YEAR,
    )
    assert [m.person.pk for m in matches] == [original.pk]
    match = matches[0]
    assert match.probable
    # Stable codes are what is stored; labels are translated only when shown.
    assert {"same_names", "names_reordered", "surnames_swapped", "same_birth_year"} <= set(match.codes)
    with translation.override("en"):
        assert {"same names", "names in another order", "same year of birth"} <= set(match.reasons)


def test_candidates_for_person_finds_the_registered_near_duplicate(registrar, place, original):
    copy = register_person(
        registrar, place, given_names="Jose Angel", first_surname="Gomez", second_surname="Hernandez", sex="m",
        nationality="HN", birth_precision=BirthPrecision.YEAR, birth_year=1992,
    ).person
    assert [m.person.pk for m in matching.candidates_for_person(copy)] == [original.pk]
    assert [m.person.pk for m in matching.candidates_for_person(original)] == [copy.pk]


@pytest.mark.parametrize(
    ("precision", "fields"),
    [
        (BirthPrecision.EXACT, {"birth_year": 1993, "birth_date": dt.date(1993, 3, 14)}),
        (BirthPrecision.YEAR, {"birth_year": 1995}),
        (BirthPrecision.ESTIMATED, {"birth_year": 1988}),
        (BirthPrecision.EXACT, {"birth_year": 2012}),
    ],
)
def test_incompatible_birth_years_are_not_candidates(original, precision, fields):
    matches = matching.candidates_for(
        given_names="José Ángel", first_surname="Hernández", second_surname="Gómez", sex="m", precision=precision, **fields,
    )
    assert matches == []


def test_compatible_estimated_birth_is_a_candidate(original):
    matches = matching.candidates_for(
        given_names="José Ángel", first_surname="Hernández", second_surname="Gómez", birth_year=1990,
        precision=BirthPrecision.ESTIMATED,
    )
    assert [m.person.pk for m in matches] == [original.pk]
    assert "close_birth_year" in matches[0].codes
    with translation.override("en"):
        assert "close year of birth" in matches[0].reasons


def test_different_names_are_not_candidates(original, others):
    assert matching.candidates_for(given_names="Pedro", first_surname="Castillo", birth_year=1992, precision="year") == []
    assert matching.candidates_for(given_names="María", first_surname="Hernández", birth_year=1992, precision="year") == []


def test_pairs_decided_different_are_excluded(registrar, place, original):
    copy = register_person(
        registrar, place, given_names="José Ángel", first_surname="Hernández", second_surname="Gómez", sex="m",
        birth_precision=BirthPrecision.YEAR, birth_year=1992,
    ).person
    [pair] = matching.record_candidates(copy)
    DuplicateCandidate.objects.filter(pk=pair.pk).update(status=DuplicateStatus.DIFFERENT_PEOPLE)
    assert matching.candidates_for_person(copy) == []
    assert matching.candidates_for_person(original) == []
    # Recording again keeps the decision instead of reopening the pair.
    assert matching.record_candidates(copy) == []
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.DIFFERENT_PEOPLE


def test_record_candidates_creates_ordered_pairs_once(registrar, place, original):
    copies = [
        register_person(
            registrar, place, given_names=g, first_surname="Hernandez", second_surname="Gomez", sex="m",
            birth_precision=BirthPrecision.YEAR, birth_year=1992,
        ).person
        for g in ("José Ángel", "Jose Angel")
    ]
    stored = matching.record_candidates(original)
    assert len(stored) == 2
    for pair in stored:
        assert pair.person_a_id < pair.person_b_id
        assert pair.status == DuplicateStatus.PENDING and pair.reasons and 0.75 <= pair.score <= 1
    matching.record_candidates(original)
    for copy in copies:
        matching.record_candidates(copy)
    assert DuplicateCandidate.objects.count() == 3  # original-copy1, original-copy2, copy1-copy2
    pairs = set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id"))
    assert pairs == {tuple(sorted(p)) for p in itertools.combinations([original.pk, *[c.pk for c in copies]], 2)}
