"""Benchmark: duplicate detection quality against ground truth, next to the recordlinkage
package's standard configuration on the same data in the same run.

Generates synthetic Mexican and Central American people (registry.resolution.synthetic: Faker
es_MX plus Mayan surnames; accents dropped, surnames swapped or one missing, typos, day/month
transposed, estimated ages, nicknames, compound given names split, nationality declared
differently) with the truth of who is who, writes them as a CSV, imports it with
``manage.py import_registrations`` into a separate database, runs ``manage.py find_duplicates``
and prints pairwise precision, recall and F1 (goal: F1 >= 0.97 and ahead of the baseline).

    uv run --frozen python bench/dedup_quality.py                    # 2,000 people (~2,700 rows)
    uv run --frozen python bench/dedup_quality.py --people 500 --seed 3

The database (default ``frontera_bench_dedup``) is dropped and re-created.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from common import recreate_database, setup_django  # bench/ is sys.path[0] when run as a script


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026, help="held out: the shipped weights use seed 11")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DEDUP_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/frontera_bench_dedup"))
    return parser.parse_args()


def fixtures():
    """Migrate; one agency, one place, one supervisor (MFA is irrelevant to commands)."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from accounts.models import Agency, User
    from accounts.roles import sync_role_groups
    from crossings.models import Place

    call_command("migrate", verbosity=0)
    sync_role_groups()
    agency = Agency.objects.create(code="bench", name="Bench", kind="government")
    user = User.objects.create(username="bench-supervisor", agency=agency)
    user.groups.add(Group.objects.get(name="supervisor"))
    place = Place.objects.create(code="BENCH-01", category="crossing", kind="road_bridge", name="Bench",
                                 time_zone="America/Mexico_City")
    return user, place


def write_csv(records, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0].as_row()))
        writer.writeheader()
        writer.writerows(r.as_row() for r in records)


def ours(records, user, place, workdir: Path) -> tuple[set, dict]:
    """Import through import_registrations, pairs through find_duplicates; pairs by row."""
    from django.core.management import call_command

    from registry.models import Registration
    from registry.resolution.synthetic import REGISTERED_ON

    path = workdir / "people.csv"
    write_csv(records, path)
    timings = {}
    started = time.perf_counter()
    call_command("import_registrations", str(path), "--as", user.username, "--place", place.code,
                 "--legal-basis", "public_interest", "--batch-size", "500", stdout=open(os.devnull, "w"))  # noqa: SIM115
    timings["import"] = time.perf_counter() - started
    started = time.perf_counter()
    out = workdir / "pairs.csv"
    call_command("find_duplicates", "--output", str(out), stderr=open(os.devnull, "w"))  # noqa: SIM115
    timings["find_duplicates"] = time.perf_counter() - started
    origin = dt.datetime.combine(REGISTERED_ON, dt.time(8), tzinfo=dt.UTC)
    row_of = {ref: int((at - origin).total_seconds())
              for ref, at in Registration.objects.values_list("person__reference", "registered_at")}
    with out.open(encoding="utf-8", newline="") as handle:
        pairs = {tuple(sorted((row_of[r["reference_a"]], row_of[r["reference_b"]]))) for r in csv.DictReader(handle)}
    return pairs, timings


def baseline(records) -> tuple[set, float]:
    """recordlinkage's standard configuration (its tutorial): cleaned strings, a sorted
    neighbourhood index on the surname plus blocking on the year of birth, Jaro-Winkler >= 0.85
    on each name part, exact comparisons elsewhere, a match when more than 3 features agree."""
    import pandas as pd
    import recordlinkage
    from recordlinkage.preprocessing import clean

    started = time.perf_counter()
    frame = pd.DataFrame([{
        "row": r.row, "given": r.given_names, "first": r.first_surname, "second": r.second_surname, "sex": r.sex,
        "dob": r.birth_date.isoformat() if r.birth_date else "", "year": r.birth_year or 0, "nat": r.nationality,
    } for r in records]).set_index("row")
    for column in ("given", "first", "second"):
        frame[column] = clean(frame[column].fillna(""), strip_accents="unicode")
    indexer = recordlinkage.Index()
    indexer.sortedneighbourhood("first", window=9)
    indexer.block("year")
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    for column in ("given", "first", "second"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("dob", "year", "sex", "nat"):
        compare.exact(column, column, label=column)
    features = compare.compute(candidates, frame)
    matches = features[features.sum(axis=1) > 3].index
    return {tuple(sorted((int(a), int(b)))) for a, b in matches}, time.perf_counter() - started


def main() -> None:
    args = parse_args()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from registry.resolution import evaluation, synthetic
    from registry.resolution.weights import current

    user, place = fixtures()
    records = synthetic.generate(args.people, seed=args.seed)
    truth = synthetic.true_pairs(records)
    print(f"people: {args.people:,}  rows: {len(records):,}  true pairs: {len(truth):,}  seed: {args.seed}  "
          f"weights: {current().version} (possible {current().possible}, probable {current().probable})")
    with tempfile.TemporaryDirectory() as tmp:
        from django.conf import settings

        settings.IMPORT_DIR = Path(tmp) / "imports"
        found, timings = ours(records, user, place, Path(tmp))
    theirs, their_seconds = baseline(records)
    print(f"{'':28} {'precision':>9} {'recall':>7} {'F1':>7} {'pairs':>7} {'seconds':>8}")
    for name, pairs, seconds in (
        ("frontera (import + find)", found, timings["import"] + timings["find_duplicates"]),
        ("recordlinkage standard", theirs, their_seconds),
    ):
        q = evaluation.quality(pairs, truth)
        print(f"{name:28} {q['precision']:9.4f} {q['recall']:7.4f} {q['f1']:7.4f} {len(pairs):7,} {seconds:8.1f}")
    print(f"(import {timings['import']:.1f} s, find_duplicates {timings['find_duplicates']:.1f} s; goal F1 >= 0.97)")


if __name__ == "__main__":
    main()
