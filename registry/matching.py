"""Finding people again: search and duplicate candidates, without plaintext in the database.

Search blocks through blind-index terms (``PersonNameTerm``) and keyed document indexes and ranks
the decrypted hits with rapidfuzz. Duplicate detection lives in ``registry.resolution`` (blocking
keys, Fellegi–Sunter scoring with reason codes, weights as data); the names below are its public
face for the pages, services and tasks. Nothing is ever merged automatically.
"""

from __future__ import annotations

from django.db.models import Count
from rapidfuzz import fuzz

from privacy.blind_index import (
    blind_index,
    blind_indexes,
    name_lookup_terms,
    normalise_text,
)
from registry import reference
from registry.models import IdentityDocument, Person, PersonNameTerm
from registry.resolution.engine import (
    Match,
    candidates_for,
    candidates_for_person,
    load_people,
    record_candidates,
    score_people,
)
from registry.resolution.weights import current as _weights
from registry.vocabulary import PersonStatus

__all__ = [
    "POSSIBLE", "PROBABLE", "Match", "candidates_for", "candidates_for_person", "document_search_index",
    "load_people", "record_candidates", "score_people", "search",
]

POSSIBLE = _weights().possible
PROBABLE = _weights().probable
MAX_BLOCK = 200
DOCUMENT_SEARCH_DOMAIN = "document-number-search"



def _document_search_value(number: str) -> str:
    return "".join(ch for ch in number.upper() if ch.isalnum())


def document_search_index(number: str) -> str:
    """Index of a document number alone (any kind, any country), for the search box."""
    return blind_index(_document_search_value(number), DOCUMENT_SEARCH_DOMAIN)


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


def _survivor_of(visible, ref: str) -> list[Person]:
    """An old reference of a merged record finds the survivor (following chained merges)."""
    person = Person.objects.filter(reference=ref, status=PersonStatus.MERGED).first()
    for _hop in range(10):
        if person is None or person.merged_into_id is None:
            break
        person = person.merged_into
    if person is None or person.status != PersonStatus.ACTIVE:
        return []
    return list(visible.filter(pk=person.pk))


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
        found = list(visible.filter(reference=ref)) or _survivor_of(visible, ref)
        if found:
            return found
    if any(ch.isdigit() for ch in text):
        ids = IdentityDocument.objects.filter(
            number_search_bidx__in=blind_indexes(_document_search_value(text), DOCUMENT_SEARCH_DOMAIN)
        ).values("person_id")  # under the previous key too while a rotation runs
        return list(visible.filter(pk__in=ids))
    terms = name_lookup_terms(text)
    ids = _block(terms, base=visible)
    found = list(visible.filter(pk__in=ids))
    ranked = sorted(found, key=lambda p: max(_name_score(text, n) for n in [p.full_name, *p.aliases]), reverse=True)
    return [p for p in ranked if max(_name_score(text, n) for n in [p.full_name, *p.aliases]) >= 0.5]

