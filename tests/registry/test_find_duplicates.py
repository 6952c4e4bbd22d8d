"""manage.py find_duplicates: candidate pairs by reference with score and reason codes."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry.models import DuplicateCandidate, Person
from registry.vocabulary import DuplicateStatus
from tests.registry.factories import register_person


@pytest.fixture
def people(supervisor, place):
    made = [
        register_person(supervisor, place, given_names=g, first_surname=a, second_surname=b, sex="m", nationality="HN",
                        birth_date=dt.date(1992, 3, 14)).person
        for g, a, b in (("José Ángel", "Hernández", "Gómez"), ("Jose Angel", "Gomez", "Hernandez"),
                        ("Pedro", "Castillo", "Ruiz"))
    ]
    return made


def read(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_writes_pairs_by_reference_with_score_and_codes(people, tmp_path):
    out = tmp_path / "pairs.csv"
    call_command("find_duplicates", "--output", str(out))
    [pair] = read(out)
    assert {pair["reference_a"], pair["reference_b"]} == {people[0].reference, people[1].reference}
    assert float(pair["score"]) >= 0.9
    assert {"surnames_swapped", "same_birth_date"} <= set(pair["reasons"].split())
    text = out.read_text(encoding="utf-8")
    assert "José" not in text and "Hernández" not in text  # references only, no names


def test_since_limits_to_recently_changed_people(people, tmp_path):
    out = tmp_path / "pairs.csv"
    Person.objects.update(modified_at=timezone.now() - dt.timedelta(days=10))
    call_command("find_duplicates", "--output", str(out), "--since", timezone.localdate().isoformat())
    assert read(out) == []
    Person.objects.filter(pk=people[1].pk).update(modified_at=timezone.now())
    call_command("find_duplicates", "--output", str(out), "--since", timezone.localdate().isoformat())
    assert len(read(out)) == 1


def test_decided_pairs_are_left_out_and_bad_arguments_refused(people, tmp_path):
    a, b = sorted([people[0].pk, people[1].pk])
    DuplicateCandidate.objects.update_or_create(person_a_id=a, person_b_id=b, defaults={
        "score": 0.99, "reasons": [], "status": DuplicateStatus.DIFFERENT_PEOPLE})
    out = tmp_path / "pairs.csv"
    call_command("find_duplicates", "--output", str(out))
    assert read(out) == []
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("find_duplicates", "--since", "ayer")


def test_a_lower_threshold_adds_weaker_pairs(people, tmp_path):
    out = tmp_path / "pairs.csv"
    call_command("find_duplicates", "--output", str(out), "--threshold", "0.0")
    assert len(read(out)) >= 1
    assert all(0 <= float(p["score"]) <= 1 for p in read(out))
