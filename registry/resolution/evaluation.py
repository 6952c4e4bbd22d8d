"""In-memory linkage of synthetic records with ground truth: the same blocking keys and
scoring as the engine, without a database. Used to estimate the Fellegi–Sunter weights
(``manage.py estimate_match_weights``) and by the tests."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from registry.resolution import blocking
from registry.resolution.identity import Identity, from_fields
from registry.resolution.scoring import score_pair
from registry.resolution.synthetic import Record
from registry.resolution.weights import Weights, parse

SMOOTHING = 0.5  # Laplace pseudo-count per level


def identity_of(record: Record) -> Identity:
    from registry.matching import document_search_index

    docs = [document_search_index(record.document_number)] if record.document_number else []
    return from_fields(
        record.row, given_names=record.given_names, first_surname=record.first_surname,
        second_surname=record.second_surname, sex=record.sex, birth_date=record.birth_date,
        birth_year=record.birth_year, precision=record.precision, nationality=record.nationality, documents=docs,
        document_kinds=[f"passport:{record.nationality}"] if docs else [], group=record.group_key,
    )


def blocked_pairs(identities: list[Identity]) -> set[tuple[int, int]]:
    """Candidate pairs as the database would find them (shared blocking key or document)."""
    index: dict[str, list] = defaultdict(list)
    for ident in identities:
        for key in blocking.stored_keys(ident) | {f"d:{d}" for d in ident.documents}:
            index[key].append(ident.key)
    pairs = set()
    for ident in identities:
        for key in blocking.query_keys(ident) | {f"d:{d}" for d in ident.documents}:
            pairs.update(tuple(sorted((ident.key, other))) for other in index.get(key, ()) if other != ident.key)
    return pairs


def estimate(records: list[Record], truth: set, base: dict) -> dict:
    """m/u per level from labelled blocked pairs; returns the weights JSON structure."""
    identities = {r.row: identity_of(r) for r in records}
    counts = {True: defaultdict(Counter), False: defaultdict(Counter)}
    totals = Counter()
    flat = parse({**base, "prior_log2_odds": 0.0})
    for a, b in blocked_pairs(list(identities.values())):
        scored = score_pair(identities[a], identities[b], flat)
        if scored is None:
            continue
        same = (a, b) in truth
        totals[same] += 1
        for field, level in scored.levels.items():
            counts[same][field][level] += 1
    fields = {}
    fixed = set(base.get("fixed_fields", ()))
    for field, levels in base["fields"].items():
        if field in fixed:  # set by hand (see weights.json "fixed_note"): kept as they are
            fields[field] = levels
            continue
        fields[field] = {}
        for level in levels:
            m = (counts[True][field][level] + SMOOTHING) / (totals[True] + SMOOTHING * len(levels))
            u = (counts[False][field][level] + SMOOTHING) / (totals[False] + SMOOTHING * len(levels))
            fields[field][level] = {"m": round(m, 6), "u": round(u, 6)}
    prior = math.log2(max(totals[True], 1) / max(totals[False], 1))
    return {**base, "fields": fields, "prior_log2_odds": round(prior, 4),
            "estimated_pairs": {"same": totals[True], "different": totals[False]}}


def scored_pairs(records: list[Record], weights: Weights) -> dict:
    identities = {r.row: identity_of(r) for r in records}
    found = {}
    for a, b in blocked_pairs(list(identities.values())):
        scored = score_pair(identities[a], identities[b], weights)
        if scored is not None:
            found[(a, b)] = scored.score
    return found


def quality(predicted: set, truth: set) -> dict:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": len(predicted) - tp, "fn": len(truth) - tp}


def best_threshold(scores: dict, truth: set) -> tuple[float, dict]:
    """The score threshold with the best F1 (ties: the higher threshold)."""
    best = (0.5, quality({p for p, s in scores.items() if s >= 0.5}, truth))
    for t in sorted({round(s, 3) for s in scores.values()}):
        q = quality({p for p, s in scores.items() if s >= t}, truth)
        if q["f1"] >= best[1]["f1"]:
            best = (t, q)
    return best


def precise_threshold(scores: dict, truth: set, *, floor: float, precision: float = 0.995) -> float:
    """The lowest threshold (not below ``floor``) whose pairs reach ``precision``."""
    for t in sorted({round(s, 3) for s in scores.values() if s >= floor}):
        if quality({p for p, s in scores.items() if s >= t}, truth)["precision"] >= precision:
            return t
    return 1.0
