"""Scoring one pair of decrypted identities: comparison levels -> Fellegi–Sunter weights ->
a match probability with reason codes. Pure functions: no database, no translation."""

from __future__ import annotations

from dataclasses import dataclass

from registry.resolution.identity import Identity
from registry.resolution.names import SurnameProbe, compare_names, compare_surnames
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


def _other_levels(a: Identity, b: Identity) -> tuple[dict[str, str], list[str]] | None:
    """Every level but the names' (they need the decrypted names), with their codes; None when
    the births are incompatible."""
    birth = compare_birth(a, b)
    if birth is None:
        return None
    levels = {
        "birth": birth[0], "sex": _simple(a.sex, b.sex, KNOWN_SEX),
        "nationality": _simple(a.nationality, b.nationality), "document": compare_documents(a, b),
        "group": "same_group" if a.group and a.group == b.group else "none",
    }
    return levels, birth[1]


def _possible_levels(a: Identity, comparison: str) -> set[str]:
    """The levels ``comparison`` can take for ``a`` against anyone (``MISSING`` included where
    the other record may lack the field)."""
    if comparison == "document":
        return {"none", *(["same"] if a.documents else []), *(["conflict"] if a.document_kinds else [])}
    if comparison == "group":
        return {"none", *(["same_group"] if a.group else [])}
    if comparison == "sex" and a.sex not in KNOWN_SEX or comparison == "nationality" and not a.nationality:
        return {MISSING}
    if comparison == "birth" and a.birth_year is None:
        return {MISSING}
    levels = {MISSING, *current().levels.get(comparison, {})}
    if comparison == "birth" and not (a.precision == BirthPrecision.EXACT and a.birth_date):
        return {level for level in levels if not level.startswith("date_")}  # compare_birth: dates of two exact births
    return levels


COMPARISONS = ("given", "surnames", "birth", "sex", "nationality", "document", "group")


class Ceiling:
    """Upper bounds of one identity's scores against candidates known only in part, so that a
    candidate that cannot reach a threshold is skipped before (all of) it is decrypted.

    Each comparison's best weight for ``a`` is computed once; ``score(fixed)`` is the highest
    score of a pair whose ``fixed`` levels are known, every other comparison at its best (the
    names always, unless fixed: they need decrypting). The engine bounds a candidate twice: from
    the columns stored in clear (``clear_levels``), then with its surnames decrypted
    (``surnames``), and decrypts the given names of those still in reach only."""

    def __init__(self, a: Identity, weights: Weights | None = None):
        self.a = a
        self.weights = weights or current()
        self.best = {c: max(self.weights.weight(c, level) for level in _possible_levels(a, c)) for c in COMPARISONS}
        self.probe: SurnameProbe | None = None
        self.scores: dict[frozenset, float] = {}  # candidates share few combinations of levels

    def score(self, fixed: dict[str, str]) -> float:
        key = frozenset(fixed.items())
        found = self.scores.get(key)
        if found is None:
            weight = self.weights.weight
            total = self.weights.prior_log2_odds + sum(
                weight(c, fixed[c]) if c in fixed else self.best[c] for c in COMPARISONS)
            found = self.scores[key] = round(probability(total), 4)
        return found

    def clear_levels(self, b: Identity, *, links_known: bool = True, shares_document: bool = True) -> dict | None:
        """``b``'s levels that the columns stored in clear decide; None when vetoed.
        ``links_known=False``: ``b``'s documents and group were not loaded, so those levels are
        left at their best for ``a`` (``shares_document=False``: at their best but "same", for a
        candidate that was not found through one of ``a``'s documents)."""
        other = _other_levels(self.a, b)
        if other is None:
            return None
        if links_known:
            return other[0]
        fixed = {k: v for k, v in other[0].items() if k not in ("document", "group")}
        if not shares_document:
            fixed["document"] = best_document_level_but_same(self.a, self.weights)
        return fixed

    def surnames(self, names) -> str:
        """The best surname level ``a`` reaches with any of ``names`` (a candidate's name
        variants: only their surnames are read). ``score_pair`` picks one pair of variants for
        given names and surnames together, so its surname weight is at most this level's."""
        if self.probe is None:
            self.probe = SurnameProbe(self.a.names)
        if all(x.first or x.second for x in self.a.names) and not any(
                not (y.first or y.second) or self.probe.may_agree(y) for y in names):
            return "differ"  # what compare_surnames says for every pair, found without it
        weight = self.weights.weight
        return max((compare_surnames(x, y)[0] for x in self.a.names for y in names),
                   key=lambda level: weight("surnames", level))


def best_document_level_but_same(a: Identity, weights: Weights | None = None) -> str:
    """The best document level ``a`` can reach with someone who holds none of its documents."""
    weights = weights or current()
    return max(sorted(_possible_levels(a, "document") - {"same"}), key=lambda level: weights.weight("document", level))


def score_pair(a: Identity, b: Identity, weights: Weights | None = None) -> Scored | None:
    """Score two identities; None when they cannot be the same person (incompatible births)."""
    weights = weights or current()
    other = _other_levels(a, b)
    if other is None:
        return None
    names = _best_names(a, b, weights)
    levels = {"given": names.given, "surnames": names.surnames, **other[0]}
    codes = [*names.codes, *other[1], *(_CODES[(k, v)] for k, v in levels.items() if (k, v) in _CODES)]
    total = weights.prior_log2_odds + sum(weights.weight(k, v) for k, v in levels.items())
    return Scored(round(probability(total), 4), round(total, 3), levels, tuple(dict.fromkeys(codes)))
