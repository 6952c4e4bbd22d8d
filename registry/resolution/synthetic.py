"""Seeded synthetic people of Mexico and Central America with realistic duplicate corruptions
and ground truth: the shared data of the resolution tests, ``estimate_match_weights`` and
``bench/dedup_quality.py``. Never real people (Faker plus fixed lists)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

from faker import Faker
from unidecode import unidecode

from registry.resolution.names import NICKNAMES

REGISTERED_ON = dt.date(2026, 1, 15)
NATIONALITIES = (("GT", 0.35), ("HN", 0.3), ("SV", 0.15), ("MX", 0.1), ("NI", 0.05), ("VE", 0.05))
MAYAN_SURNAMES = ("Ixcot", "Tzul", "Xicará", "Chumil", "Coj", "Cux", "Tum", "Batz", "Ajú", "Quiej", "Sic", "Tuyuc",
                  "Chávez", "Yax", "Tzoc", "Ixchop")
POPULAR_GIVEN = {"m": ("José", "Francisco", "Jesús", "Guillermo", "Ignacio", "Eduardo", "Antonio", "Enrique",
                       "Manuel", "Fernando", "Juan", "Luis", "Carlos", "José Ángel", "Juan Carlos", "Kevin", "Brayan",
                       "Wilmer", "Edwin", "Erick", "Marvin", "Selvin"),
                 "f": ("Guadalupe", "María", "Dolores", "Rosario", "Teresa", "Concepción", "Graciela", "Alicia",
                       "Isabel", "María José", "Ana Lucía", "Dulce María", "Rosa Elena", "Yesenia", "Heidy",
                       "Karla", "Wendy", "Glenda", "Sonia", "Lesly")}
REVERSE_NICKNAMES: dict[str, list[str]] = {}
for _nick, _full in NICKNAMES.items():
    REVERSE_NICKNAMES.setdefault(_full, []).append(_nick.capitalize())


@dataclass(frozen=True)
class Record:
    """One synthetic registration row; ``entity`` is the ground truth (same person)."""

    row: int
    entity: int
    given_names: str
    first_surname: str
    second_surname: str
    sex: str
    birth_date: dt.date | None
    birth_year: int | None
    age: int | None
    nationality: str
    document_number: str = ""
    group_key: str = ""
    relationship: str = ""

    @property
    def precision(self) -> str:
        return "exact" if self.birth_date else ("year" if self.age is None else "estimated")

    def as_row(self) -> dict:
        return {
            "given_names": self.given_names, "first_surname": self.first_surname, "second_surname": self.second_surname,
            "sex": self.sex, "birth_date": self.birth_date.isoformat() if self.birth_date else "",
            "birth_year": "" if self.birth_date or self.age is not None or self.birth_year is None else str(self.birth_year),
            "age": "" if self.age is None else str(self.age), "nationality": self.nationality,
            "document_kind": "passport" if self.document_number else "", "document_number": self.document_number,
            "document_country": self.nationality if self.document_number else "",
            "group_key": self.group_key, "relationship": self.relationship,
            "registered_at": self.registered_at.isoformat(timespec="seconds"),
        }

    @property
    def registered_at(self) -> dt.datetime:
        """Each row its own registration time (a second apart): rows are separate registrations."""
        return dt.datetime.combine(REGISTERED_ON, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(seconds=self.row)


class Generator:
    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.faker = Faker("es_MX")
        self.faker.seed_instance(seed)

    def surname(self, nationality: str) -> str:
        if nationality == "GT" and self.rng.random() < 0.3:
            return self.rng.choice(MAYAN_SURNAMES)
        return self.faker.last_name()

    def given(self, sex: str) -> str:
        if self.rng.random() < 0.45:
            return self.rng.choice(POPULAR_GIVEN[sex])
        first = self.faker.first_name_female() if sex == "f" else self.faker.first_name_male()
        return first

    def base(self, entity: int, surnames: tuple[str, str] | None = None, age: int | None = None, **extra) -> Record:
        rng = self.rng
        nationality = extra.pop("nationality", None) or rng.choices([n for n, _ in NATIONALITIES], [w for _, w in NATIONALITIES])[0]
        sex = rng.choice("fm")
        first, second = surnames or (self.surname(nationality), self.surname(nationality))
        age = age if age is not None else rng.randint(1, 70)
        born = REGISTERED_ON - dt.timedelta(days=age * 365 + rng.randint(0, 364))
        document = f"{rng.choice('GCEP')}{rng.randint(1000000, 9999999)}" if age >= 18 and rng.random() < 0.35 else ""
        return Record(0, entity, self.given(sex), first, second, sex, born, born.year, None, nationality, document, **extra)


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randint(1, len(word) - 2)
    op = rng.choice(("sub", "del", "ins", "swap"))
    letter = rng.choice("aeioulnrst")
    if op == "sub":
        return word[:i] + letter + word[i + 1:]
    if op == "del":
        return word[:i] + word[i + 1:]
    if op == "ins":
        return word[:i] + letter + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _corrupt_once(rng: random.Random, r: Record, kind: str) -> Record:
    if kind == "accents":
        return replace(r, given_names=unidecode(r.given_names), first_surname=unidecode(r.first_surname),
                       second_surname=unidecode(r.second_surname))
    if kind == "swap_surnames" and r.second_surname:
        return replace(r, first_surname=r.second_surname, second_surname=r.first_surname)
    if kind == "drop_second_surname":
        return replace(r, second_surname="")
    if kind == "typo":
        field = rng.choice(("given_names", "first_surname", "second_surname"))
        words = getattr(r, field).split()
        if words:
            words[-1] = _typo(rng, words[-1])
            return replace(r, **{field: " ".join(words)})
    if kind == "transpose" and r.birth_date and r.birth_date.day <= 12 and r.birth_date.day != r.birth_date.month:
        return replace(r, birth_date=r.birth_date.replace(month=r.birth_date.day, day=r.birth_date.month))
    if kind == "estimated_age" and r.birth_year:
        true_age = REGISTERED_ON.year - r.birth_year
        age = max(0, true_age + rng.randint(-2, 2))
        return replace(r, birth_date=None, birth_year=REGISTERED_ON.year - age, age=age)
    if kind == "year_only" and r.birth_date:
        return replace(r, birth_date=None)
    if kind == "nickname":
        words = r.given_names.split()
        key = unidecode(words[0]).lower()
        if key in REVERSE_NICKNAMES:
            return replace(r, given_names=rng.choice(REVERSE_NICKNAMES[key]))
    if kind == "compound_split":
        words = r.given_names.split()
        if len(words) > 1:
            return replace(r, given_names=rng.choice(words))
    if kind == "case":
        return replace(r, given_names=r.given_names.upper(), first_surname=r.first_surname.upper(),
                       second_surname=r.second_surname.upper())
    if kind == "sex_unknown":
        return replace(r, sex="u")
    if kind == "nationality":  # declared differently (fear of removal, mixed families)
        return replace(r, nationality=rng.choice([n for n in ("GT", "MX", "HN") if n != r.nationality]))
    return r


CORRUPTIONS = ("accents", "swap_surnames", "drop_second_surname", "typo", "transpose", "estimated_age", "year_only",
               "nickname", "compound_split", "case", "sex_unknown", "nationality")


def corrupt(rng: random.Random, record: Record, count: int) -> Record:
    """A re-registration of the same person: 1–3 corruptions; the document is not repeated
    (a valid document is unique: a second registration showing it is refused outright)."""
    out = replace(record, document_number="", group_key="", relationship="")
    for kind in rng.sample(CORRUPTIONS, count):
        out = _corrupt_once(rng, out, kind)
    return out


def _family(gen: Generator, entity: int, family: int) -> list[Record]:
    """A parent with children: shared surnames, different given names, one group."""
    rng = gen.rng
    head = gen.base(entity, age=rng.randint(22, 45), group_key=f"F{family}", relationship="head")
    surnames = (head.first_surname, gen.surname(head.nationality))
    members = [head]
    for k in range(rng.randint(1, 3)):
        members.append(gen.base(entity + k + 1, surnames=surnames, age=rng.randint(1, 16), nationality=head.nationality,
                                group_key=f"F{family}", relationship="child"))
    return members


def generate(people: int = 1000, duplicate_rate: float = 0.3, seed: int = 7) -> list[Record]:
    """``people`` distinct people (a quarter in families), some registered again with
    corruptions; rows shuffled and numbered from 2 (row 1 is a file's header)."""
    gen = Generator(seed)
    rng = gen.rng
    originals: list[Record] = []
    family = 0
    while len(originals) < people:
        if rng.random() < 0.08:
            family += 1
            originals.extend(_family(gen, len(originals), family))
        else:
            originals.append(gen.base(len(originals)))
    originals = originals[:people]
    records = list(originals)
    for original in originals:
        if rng.random() < duplicate_rate:
            for _copy in range(1 if rng.random() < 0.8 else 2):
                records.append(corrupt(rng, original, rng.randint(1, 3)))
    rng.shuffle(records)
    return [replace(r, row=i + 2) for i, r in enumerate(records)]


def true_pairs(records: list[Record]) -> set[tuple[int, int]]:
    """Pairs of row numbers that are the same person."""
    by_entity: dict[int, list[int]] = {}
    for r in records:
        by_entity.setdefault(r.entity, []).append(r.row)
    return {(a, b) for rows in by_entity.values() for i, a in enumerate(sorted(rows)) for b in sorted(rows)[i + 1:]}
