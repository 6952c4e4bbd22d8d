"""Scoring one pair of decrypted identities: comparison levels -> Fellegi–Sunter weights ->
a match probability with reason codes. Pure functions: no database, no translation."""

from __future__ import annotations

from dataclasses import dataclass

from registry.resolution.identity import Identity
from registry.resolution.names import compare_names
from registry.resolution.weights import MISSING, Weights, current, probability
from registry.vocabulary import BirthPrecision

KNOWN_SEX = frozenset({"f", "m", "x"})


@dataclass(frozen=True)
class Scored:
    """A scored pair: probability in [0, 1], total log2 weight, levels and reason codes."""

    score: float
    weight: float
    levels: dict[str, str]
    codes: tuple[str, ...]


def compare_birth(a: Identity, b: Identity) -> tuple[str, list[str]] | None:
    """Birth level and codes; None when the births are incompatible (a veto, not a weight)."""
    if a.birth_year is None or b.birth_year is None:
        return MISSING, []
    gap = abs(a.birth_year - b.birth_year)
    if gap > a.slack + b.slack:  # each imprecise birth may be off by its own slack
        return None
    exact = a.precision == b.precision == BirthPrecision.EXACT
    if exact and a.birth_date and b.birth_date:
        if a.birth_date == b.birth_date:
            return "date_exact", ["same_birth_date", "same_birth_year"]
        if (a.birth_date.day, a.birth_date.month) == (b.birth_date.month, b.birth_date.day):
            return "date_transposed", ["birth_day_month_transposed", "same_birth_year"]
        return "date_differs", ["birth_date_differs", "same_birth_year"]
    if gap == 0:
        return "year_same", ["same_birth_year"]
    return "year_close", ["close_birth_year"]


def _simple(a: str, b: str, known=None) -> str:
    if not a or not b or (known is not None and (a not in known or b not in known)):
        return MISSING
    return "agree" if a == b else "disagree"


def compare_documents(a: Identity, b: Identity) -> str:
    if a.documents & b.documents:
        return "same"
    if a.document_kinds & b.document_kinds:
        return "conflict"
    return "none"


_CODES = {
    ("sex", "agree"): "same_sex", ("sex", "disagree"): "different_sex",
    ("nationality", "agree"): "same_nationality", ("nationality", "disagree"): "different_nationality",
    ("document", "same"): "same_document", ("document", "conflict"): "different_document",
    ("group", "same_group"): "same_travel_group",
}


def _best_names(a: Identity, b: Identity, weights: Weights):
    """The best-agreeing pair of name variants (record names and aliases)."""
    best = None
    for x in a.names:
        for y in b.names:
            found = compare_names(x, y)
            total = weights.weight("given", found.given) + weights.weight("surnames", found.surnames)
            if best is None or total > best[0]:
                best = (total, found)
    return best[1]


def score_pair(a: Identity, b: Identity, weights: Weights | None = None) -> Scored | None:
    """Score two identities; None when they cannot be the same person (incompatible births)."""
    weights = weights or current()
    birth = compare_birth(a, b)
    if birth is None:
        return None
    names = _best_names(a, b, weights)
    levels = {
        "given": names.given, "surnames": names.surnames, "birth": birth[0],
        "sex": _simple(a.sex, b.sex, KNOWN_SEX), "nationality": _simple(a.nationality, b.nationality),
        "document": compare_documents(a, b),
        "group": "same_group" if a.group and a.group == b.group else "none",
    }
    codes = [*names.codes, *birth[1], *(_CODES[(k, v)] for k, v in levels.items() if (k, v) in _CODES)]
    total = weights.prior_log2_odds + sum(weights.weight(k, v) for k, v in levels.items())
    return Scored(round(probability(total), 4), round(total, 3), levels, tuple(dict.fromkeys(codes)))
