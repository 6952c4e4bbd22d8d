"""Finding people again: search and duplicate candidates, without plaintext in the database.

Blocking happens only through blind-index terms (``PersonNameTerm``) and keyed document indexes;
the few candidates found are decrypted and scored in memory with rapidfuzz. The score comes with
human-readable reasons. Nothing is ever merged automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from privacy.blind_index import blind_index, name_index_terms, name_tokens, normalise_text
from registry import reference
from registry.models import DuplicateCandidate, IdentityDocument, Person, PersonNameTerm
from registry.vocabulary import BirthPrecision, DuplicateStatus

POSSIBLE = 0.75
PROBABLE = 0.90
MAX_BLOCK = 200
DOCUMENT_SEARCH_DOMAIN = "document-number-search"


@dataclass
class Match:
    person: Person
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def probable(self) -> bool:
        return self.score >= PROBABLE


def document_search_index(number: str) -> str:
    """Index of a document number alone (any kind, any country), for the search box."""
    return blind_index("".join(ch for ch in number.upper() if ch.isalnum()), DOCUMENT_SEARCH_DOMAIN)


def _block(terms: set[str], base=None, min_terms: int = 1) -> list:
    """Person ids sharing the most name terms, best first (bounded)."""
    rows = (
        PersonNameTerm.objects.filter(term__in=terms)
        .filter(person__in=base if base is not None else Person.objects.active())
        .values("person_id")
        .annotate(shared=Count("id"))
        .filter(shared__gte=min_terms)
        .order_by("-shared")[:MAX_BLOCK]
    )
    return [row["person_id"] for row in rows]


def _name_score(a: str, b: str) -> float:
    return fuzz.token_set_ratio(normalise_text(a), normalise_text(b)) / 100


def _birth_gap(a: Person, year: int | None, precision: str) -> int | None:
    """Years between the two births, or None when either is unknown; -1 when incompatible."""
    if a.birth_year is None or year is None:
        return None
    slack = 0
    if BirthPrecision.ESTIMATED in (a.birth_precision, precision):
        slack = 3
    elif BirthPrecision.YEAR in (a.birth_precision, precision):
        slack = 1
    gap = abs(a.birth_year - year)
    return gap if gap <= slack else -1


def score(candidate: Person, *, full_name: str, birth_year: int | None, precision: str, birth_date=None, sex: str = "", nationality: str = "") -> Match | None:
    """Score one decrypted candidate against the searched identity; None if incompatible."""
    gap = _birth_gap(candidate, birth_year, precision)
    if gap == -1:
        return None
    name_sim = max(_name_score(full_name, n) for n in [candidate.full_name, *candidate.aliases])
    reasons: list[str] = []
    if name_sim >= 0.99:
        reasons.append(str(_("same names")))
    elif name_sim >= 0.8:
        reasons.append(str(_("similar names")))
    if sorted(name_tokens(full_name)) == sorted(name_tokens(candidate.full_name)) and normalise_text(full_name) != normalise_text(candidate.full_name):
        reasons.append(str(_("names in another order")))
    total = 0.7 * name_sim
    if gap == 0:
        reasons.append(str(_("same year of birth")))
        total += 0.2
    elif gap is not None:
        reasons.append(str(_("close year of birth")))
        total += 0.1
    total += _date_and_sex(candidate, birth_date, sex, reasons)
    if nationality and str(candidate.nationality) and str(candidate.nationality) != nationality:
        total -= 0.05
    return Match(candidate, round(min(total, 1.0), 3), reasons)


def _date_and_sex(candidate: Person, birth_date, sex: str, reasons: list[str]) -> float:
    bonus = 0.0
    if birth_date and candidate.birth_date:
        if birth_date == candidate.birth_date:
            reasons.append(str(_("same date of birth")))
            bonus += 0.05
        elif (birth_date.day, birth_date.month) == (candidate.birth_date.month, candidate.birth_date.day):
            reasons.append(str(_("day and month of birth transposed")))
    known = {"f", "m", "x"}
    if sex in known and candidate.sex == sex:
        bonus += 0.05
    elif sex in known and candidate.sex in known:
        reasons.append(str(_("different sex recorded")))
        bonus -= 0.2
    return bonus


def candidates_for(
    *, given_names: str, first_surname: str = "", second_surname: str = "", birth_year: int | None = None,
    precision: str = BirthPrecision.EXACT, birth_date=None, sex: str = "", nationality: str = "",
    exclude: Person | None = None, threshold: float = POSSIBLE,
) -> list[Match]:
    """Possible duplicates of an identity, best first; blocking by blind index, scoring in memory."""
    terms = name_index_terms(given_names, first_surname, second_surname)
    full_name = " ".join(p for p in (given_names, first_surname, second_surname) if p)
    ids = _block(terms, min_terms=2 if len(terms) > 2 else 1)
    query = Person.objects.active().filter(pk__in=ids)
    if exclude is not None:
        query = query.exclude(pk=exclude.pk).exclude(pk__in=_decided_different(exclude))
    matches = []
    for candidate in query:
        match = score(candidate, full_name=full_name, birth_year=birth_year, precision=precision, birth_date=birth_date, sex=sex, nationality=nationality)
        if match and match.score >= threshold:
            matches.append(match)
    return sorted(matches, key=lambda m: m.score, reverse=True)


def candidates_for_person(person: Person) -> list[Match]:
    return candidates_for(
        given_names=person.given_names, first_surname=person.first_surname, second_surname=person.second_surname,
        birth_year=person.birth_year, precision=person.birth_precision, birth_date=person.birth_date,
        sex=person.sex, nationality=str(person.nationality), exclude=person,
    )


def _decided_different(person: Person):
    pairs = DuplicateCandidate.objects.filter(Q(person_a=person) | Q(person_b=person), status=DuplicateStatus.DIFFERENT_PEOPLE)
    return [pid for pair in pairs.values_list("person_a_id", "person_b_id") for pid in pair if pid != person.pk]


@transaction.atomic
def record_candidates(person: Person) -> list[DuplicateCandidate]:
    """Store the person's candidates for review; existing pairs keep their decision."""
    stored = []
    for match in candidates_for_person(person):
        a, b = sorted([person.pk, match.person.pk])
        pair, created = DuplicateCandidate.objects.get_or_create(
            person_a_id=a, person_b_id=b, defaults={"score": match.score, "reasons": match.reasons}
        )
        if not created and pair.status == DuplicateStatus.PENDING and pair.score != match.score:
            pair.score, pair.reasons = match.score, match.reasons
            pair.save(update_fields=["score", "reasons"])
        stored.append(pair)
    return stored


def search(user, text: str, *, base=None) -> list[Person]:
    """Quick search for the search box: a reference, a document number, or names (accent-,
    case- and order-insensitive, typo-tolerant through phonetic keys). Visible people only."""
    visible = Person.objects.visible_to(user) if base is None else base
    text = (text or "").strip()
    if not text:
        return []
    ref = reference.normalise(text)
    if ref:
        # About 1 in 36 nine-letter texts ("Sara Nava"...) pass the check character: a reference
        # that finds nobody falls through to the document and name searches.
        found = list(visible.filter(reference=ref))
        if found:
            return found
    if any(ch.isdigit() for ch in text):
        ids = IdentityDocument.objects.filter(number_search_bidx=document_search_index(text)).values("person_id")
        return list(visible.filter(pk__in=ids))
    terms = name_index_terms(text)
    ids = _block(terms, base=visible)
    found = list(visible.filter(pk__in=ids))
    ranked = sorted(found, key=lambda p: max(_name_score(text, n) for n in [p.full_name, *p.aliases]), reverse=True)
    return [p for p in ranked if max(_name_score(text, n) for n in [p.full_name, *p.aliases]) >= 0.5]
