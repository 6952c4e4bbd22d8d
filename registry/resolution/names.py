"""Name rules for identity resolution: canonical tokens, nicknames and the name comparison.

Spanish naming: given names (often two: "José Ángel"), a first (paternal) and a second
(maternal) surname. Records of the same person disagree in predictable ways: accents dropped,
surnames swapped or one missing, a nickname instead of the given name, a compound given name
split or shortened, typos. ``compare_names`` turns two split names into one *level* per
comparison (given names, surnames) plus stable reason codes; the weights live in weights.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from privacy import blind_index
from privacy.blind_index import NAME_PARTICLES, normalise_text

# A pure function of one word (no key involved): memoised, blocking and scoring call it a lot.
phonetic_key = lru_cache(maxsize=65536)(blind_index.phonetic_key)

# Hypocorisms heard in Mexico and Central America -> the canonical given name. Ambiguous ones
# (Beto: Alberto or Roberto) map to one reading; the rest of the record decides.
NICKNAMES: dict[str, str] = {
    "pepe": "jose", "chepe": "jose", "pepito": "jose", "chema": "josemaria",
    "paco": "francisco", "pancho": "francisco", "curro": "francisco", "kiko": "francisco",
    "lupe": "guadalupe", "lupita": "guadalupe", "chucho": "jesus", "chuy": "jesus",
    "memo": "guillermo", "nacho": "ignacio", "lalo": "eduardo", "tono": "antonio", "tony": "antonio",
    "beto": "alberto", "quique": "enrique", "rafa": "rafael", "fito": "adolfo", "toni": "antonio",
    "concha": "concepcion", "conchita": "concepcion", "chela": "graciela", "lola": "dolores",
    "lolita": "dolores", "pili": "pilar", "maru": "maria", "mari": "maria", "meche": "mercedes",
    "chayo": "rosario", "charo": "rosario", "nati": "natividad", "cuca": "refugio", "cuquita": "refugio",
    "tere": "teresa", "tencha": "hortensia", "licha": "alicia", "chabela": "isabel", "isa": "isabel",
    "juanca": "juancarlos", "manolo": "manuel", "manu": "manuel", "poncho": "alfonso", "chalo": "gonzalo",
    "goyo": "gregorio", "nando": "fernando", "fer": "fernando", "santi": "santiago", "mundo": "edmundo",
    "chente": "vicente", "lencho": "lorenzo", "moncho": "ramon", "checo": "sergio", "pepa": "josefa",
    "rosy": "rosa", "chayito": "rosario", "kike": "enrique", "juancho": "juan", "pachito": "francisco",
}
TOKEN_AGREE = 0.88  # Jaro-Winkler at or above this counts as the same token with a typo


@lru_cache(maxsize=16384)  # names repeat a lot; bounded, like ``phonetic_key``'s cache
def canonical_tokens(value: str) -> tuple[str, ...]:
    """Normalised words without joining particles, nicknames replaced, in written order."""
    words = [w for w in normalise_text(value).split() if w not in NAME_PARTICLES] or normalise_text(value).split()
    return tuple(NICKNAMES.get(w, w) for w in words)


@lru_cache(maxsize=16384)
def has_nickname(value: str) -> bool:
    return any(w in NICKNAMES for w in normalise_text(value).split())


def token_similarity(a: str, b: str) -> float:
    """1 for the same token, 0.95 for the same sound, else Jaro-Winkler."""
    if a == b:
        return 1.0
    if phonetic_key(a) == phonetic_key(b):
        return 0.95
    return JaroWinkler.similarity(a, b)


def _agree(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Similarity of two (possibly multi-word) name parts; 0 when either is missing."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return max(token_similarity(" ".join(a), " ".join(b)), _best_pairing(a, b))


def _best_pairing(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    scores = [max(token_similarity(x, y) for y in long_) for x in short]
    return sum(scores) / len(scores) * (len(short) / len(long_)) ** 0.25


@dataclass(frozen=True)
class SplitName:
    """A name as recorded: given names and the two surnames, already canonical."""

    given: tuple[str, ...]
    first: tuple[str, ...]
    second: tuple[str, ...]
    nickname: bool = False

    @classmethod
    def of(cls, given: str, first: str = "", second: str = "") -> SplitName:
        return cls(canonical_tokens(given), canonical_tokens(first), canonical_tokens(second), has_nickname(given))

    @classmethod
    def from_alias(cls, alias: str) -> SplitName:
        """An alias is one string: the last two words are taken as surnames (Spanish order)."""
        words = canonical_tokens(alias)
        if len(words) >= 3:
            return cls(words[:-2], words[-2:-1], words[-1:], has_nickname(alias))
        return cls(words[:1], words[1:], (), has_nickname(alias))

    @property
    def tokens(self) -> tuple[str, ...]:
        return (*self.given, *self.first, *self.second)


@dataclass(frozen=True)
class NameComparison:
    given: str
    surnames: str
    codes: tuple[str, ...]


def compare_given(a: SplitName, b: SplitName) -> tuple[str, list[str]]:
    """Level of agreement of the given names, and its reason codes."""
    if not a.given or not b.given:
        return "missing", []
    if a.given == b.given:
        return ("nickname", ["given_name_nickname"]) if a.nickname != b.nickname else ("exact", ["same_given_names"])
    if set(a.given) <= set(b.given) or set(b.given) <= set(a.given):
        return "partial", ["given_names_partial", *(["given_name_nickname"] if a.nickname != b.nickname else [])]
    if _agree(a.given, b.given) >= TOKEN_AGREE:
        return "similar", ["given_names_similar"]
    if a.given[0] == b.given[0] or any(token_similarity(x, y) >= 0.95 for x in a.given for y in b.given):
        return "partial", ["given_names_partial"]
    return "differ", ["given_names_differ"]


def compare_surnames(a: SplitName, b: SplitName) -> tuple[str, list[str]]:
    """Level of agreement of the surnames: both, swapped, one missing, one differs, none."""
    if not (a.first or a.second) or not (b.first or b.second):
        return "missing", []
    straight = (_agree(a.first, b.first), _agree(a.second, b.second))
    crossed = (_agree(a.first, b.second), _agree(a.second, b.first))
    both_two = all((a.first, a.second, b.first, b.second))
    if min(straight) >= TOKEN_AGREE and both_two:
        exact = a.first == b.first and a.second == b.second
        return ("both", ["same_surnames"]) if exact else ("both_similar", ["surnames_similar"])
    if both_two and min(crossed) >= TOKEN_AGREE:
        return "swapped", ["surnames_swapped", "names_reordered"]
    if not both_two:
        if not (a.second or b.second) and straight[0] >= TOKEN_AGREE:
            return ("both", ["same_surnames"]) if a.first == b.first else ("both_similar", ["surnames_similar"])
        if max(*straight, *crossed) >= TOKEN_AGREE:
            return "one_missing", ["surname_missing"]
        return "differ", ["surnames_differ"]
    if max(*straight, *crossed) >= TOKEN_AGREE:
        return "one_differs", ["one_surname_differs"]
    return "differ", ["surnames_differ"]


def _surname_words(name: SplitName) -> set[str]:
    """Every word of a name's surnames and each surname written whole (what ``_agree`` compares)."""
    return {w for part in (name.first, name.second) if part for w in (*part, " ".join(part))}


class SurnameProbe:
    """A quick test of whether a name's surnames could agree with any of ``names``', exact in
    one direction: ``compare_surnames`` sees two surname parts agree (with a typo) only when a
    word of one, or the part written whole, is within ``TOKEN_AGREE`` of one of the other's
    (``_agree``, ``_best_pairing``: same word, same sound or Jaro-Winkler). ``may_agree(name)`` is
    False when no such word pair exists, and then ``compare_surnames`` says "differ" for ``name``
    against each of ``names`` that has surnames. One C call per new word (rapidfuzz), answers
    remembered: the namesakes a lookup decrypts share few surnames among them."""

    def __init__(self, names):
        self.words = sorted({w for name in names for w in _surname_words(name)})
        self.sounds = {phonetic_key(w) for w in self.words}
        self.seen: dict[str, bool] = {}

    def _close(self, word: str) -> bool:
        found = self.seen[word] = phonetic_key(word) in self.sounds or process.extractOne(
            word, self.words, scorer=JaroWinkler.similarity, score_cutoff=TOKEN_AGREE) is not None
        return found

    def may_agree(self, name: SplitName) -> bool:
        seen = self.seen  # called for hundreds of namesakes per lookup: a plain loop over the memo
        for word in _surname_words(name):
            found = seen.get(word)
            if found is None:
                found = self._close(word)
            if found:
                return True
        return False


def compare_names(a: SplitName, b: SplitName) -> NameComparison:
    given, given_codes = compare_given(a, b)
    surnames, surname_codes = compare_surnames(a, b)
    codes = [*given_codes, *surname_codes]
    if given == "exact" and surnames == "both" or sorted(a.tokens) == sorted(b.tokens) and a.tokens:
        codes.insert(0, "same_names")
        if a.tokens != b.tokens and "names_reordered" not in codes:
            codes.append("names_reordered")
    return NameComparison(given, surnames, tuple(dict.fromkeys(codes)))
