"""Fellegi–Sunter weights, kept as data in ``weights.json`` and loaded once.

For each comparison (given names, surnames, birth, sex, nationality, document, travel group)
and each of its levels, ``m`` = P(level | same person) and ``u`` = P(level | different people
among blocked candidates). The level's weight is ``log2(m / u)``; a pair's total weight plus the
prior log-odds is turned into a probability ``1 / (1 + 2^-W)``, which is the score shown and
compared with the thresholds. ``manage.py estimate_match_weights`` re-estimates the file from
the labelled synthetic data of ``bench/dedup_quality.py`` (see docs/matching.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WEIGHTS_FILE = Path(__file__).with_name("weights.json")
MISSING = "missing"  # a level with no evidence either way: weight 0


@dataclass(frozen=True)
class Weights:
    version: str
    prior_log2_odds: float
    possible: float
    probable: float
    levels: dict[str, dict[str, float]]  # comparison -> level -> log2(m/u)

    def weight(self, comparison: str, level: str) -> float:
        if level == MISSING:
            return 0.0
        return self.levels.get(comparison, {}).get(level, 0.0)


def _level_weights(fields: dict) -> dict[str, dict[str, float]]:
    return {
        name: {level: math.log2(p["m"] / p["u"]) for level, p in levels.items()}
        for name, levels in fields.items()
    }


def parse(data: dict) -> Weights:
    """Weights from the JSON structure (m/u probabilities per comparison level)."""
    return Weights(
        version=str(data["version"]), prior_log2_odds=float(data["prior_log2_odds"]),
        possible=float(data["thresholds"]["possible"]), probable=float(data["thresholds"]["probable"]),
        levels=_level_weights(data["fields"]),
    )


@lru_cache(maxsize=1)
def current() -> Weights:
    """The shipped weights (read once per process)."""
    return parse(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))


def probability(total: float) -> float:
    """Logistic in base 2: the match probability of a total log2-odds."""
    if total < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-total))
