"""Benchmark: speed of duplicate matching and of bulk import, against bare PostgreSQL in the
same run.

1. Loads N synthetic people (``--people``, default 1,000,000) with COPY into a separate
   database: encrypted names (one AES-GCM value per field, as the application writes them) and
   their blind blocking keys (``registry.resolution.blocking.stored_keys``).
2. Candidate lookup + scoring for one new registration (``engine.match_identity``: keys,
   indexed lookup, decrypting the candidates, Fellegi–Sunter scoring), p50 and p95 over
   ``--lookups`` corrupted re-registrations, as a ratio to the raw indexed SQL lookup of the same
   blind keys (goal <= 2 x).
3. Import throughput (``import_registrations``' runner: validation, encryption, history,
   matching, inserts) in rows/s on ``--import-rows`` rows, as a ratio to a bare psycopg
   ``executemany`` INSERT of the same final rows (every row the import wrote in the person,
   registration, name-term, blocking-key, document and group tables) into empty copies of those
   tables (goal >= 10 %), with COPY's rate beside it.

    uv run --frozen python bench/dedup_speed.py                        # 1,000,000 people
    uv run --frozen python bench/dedup_speed.py --people 50000 --import-rows 300

The database (default ``frontera_bench_speed``) is dropped and re-created unless ``--reuse``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recreate_database, setup_django, without_triggers  # noqa: E402
from dedup_quality import fixtures, write_csv  # noqa: E402

FINAL_TABLES = ("registry_person", "registry_registration", "registry_personnameterm", "registry_personblockingkey",
                "registry_identitydocument", "registry_travelgroup", "registry_groupmembership")
RAW_LOOKUP = """
SELECT person_id, count(*) AS shared FROM registry_personblockingkey
WHERE key = ANY(%s) GROUP BY person_id ORDER BY shared DESC LIMIT 200
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--import-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--imprecise", type=float, default=0.0, help=(
        "share of loaded people recorded with a year only or an estimated age, half each (their keys "
        "cover 3 or 7 years); 0: exact births only, the figures of docs/matching.md section 6"))
    parser.add_argument("--reuse", action="store_true", help="keep the loaded people")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_SPEED_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/frontera_bench_speed"))
    return parser.parse_args()


def _person_rows(records, cipher_of, created):
    from registry.reference import new_reference

    seen: set[str] = set()
    for r in records:
        ref = new_reference()
        while ref in seen:
            ref = new_reference()
        seen.add(ref)
        precision = r.precision
        yield (uuid.uuid4(), ref, cipher_of("given_names", r.given_names), cipher_of("first_surname", r.first_surname),
               cipher_of("second_surname", r.second_surname), cipher_of("aliases", []), r.sex,
               r.birth_date if precision == "exact" else None, r.birth_year, precision, r.nationality, "", "[]",
               "active", 1, created, created)


def _imprecise(records, share: float, rng: random.Random) -> list:
    """``share`` of the records with their birth known as a year only or an estimated age."""
    import dataclasses

    changed = []
    for r in records:
        if r.birth_year is not None and rng.random() < share:
            age = 2026 - r.birth_year if rng.random() < 0.5 else None  # None: year only
            r = dataclasses.replace(r, birth_date=None, age=age)
        changed.append(r)
    return changed


def load_people(n: int, seed: int, imprecise: float = 0.0) -> tuple[int, int, list]:
    """COPY n distinct synthetic people and their blocking keys; returns counts and a sample."""
    from django.db import connection

    from registry.models import Person
    from registry.resolution import blocking, synthetic
    from registry.resolution.identity import from_fields

    fields = {name: Person._meta.get_field(name) for name in ("given_names", "first_surname", "second_surname", "aliases")}

    def cipher_of(name, value):
        return fields[name].get_db_prep_value(value, connection)

    columns = ("id", "reference", "given_names", "first_surname", "second_surname", "aliases", "sex", "birth_date",
               "birth_year", "birth_precision", "nationality", "country_of_birth", "languages", "status", "version",
               "created_at", "modified_at")
    created = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    people = keys = 0
    sample = []
    rng = random.Random(seed)
    chunk = 50_000
    with connection.cursor() as cursor, without_triggers(cursor.cursor):
        raw = cursor.cursor
        for start in range(0, n, chunk):
            records = synthetic.generate(min(chunk, n - start), duplicate_rate=0.0, seed=seed + start)
            records = _imprecise(records, imprecise, rng) if imprecise else records
            rows = list(_person_rows(records, cipher_of, created))
            with raw.copy("COPY registry_person (" + ", ".join(columns) + ") FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            key_columns = ("person_id", "key", "birth_year", "birth_precision", "birth_date")
            with raw.copy(f"COPY registry_personblockingkey ({', '.join(key_columns)}) FROM STDIN") as copy:
                for row, r in zip(rows, records, strict=True):
                    identity = from_fields(row[0], given_names=r.given_names, first_surname=r.first_surname,
                                           second_surname=r.second_surname, sex=r.sex, birth_date=r.birth_date,
                                           birth_year=r.birth_year, precision=r.precision, nationality=r.nationality)
                    clear = tuple(blocking.clear_columns(identity).values())
                    for key in blocking.stored_keys(identity):
                        copy.write_row((row[0], key, *clear))
                        keys += 1
            people += len(rows)
            sample.extend(rng.sample(records, min(len(records), 200)))
            print(f"  loaded {people:,} people, {keys:,} blocking keys", flush=True)
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does to a freshly loaded table
    return people, keys, sample


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def lookups(sample, count: int, seed: int) -> tuple[list[float], list[float], float]:
    """Times of engine.match_identity and of the raw SQL on the same keys (ms); mean candidates."""
    from django.db import connection

    from registry.resolution import blocking, engine, synthetic
    from registry.resolution.identity import from_fields

    rng = random.Random(seed)
    ours, raw, found = [], [], []
    for original in rng.sample(sample, min(count, len(sample))):
        r = synthetic.corrupt(rng, original, rng.randint(1, 3))
        identity = from_fields(None, given_names=r.given_names, first_surname=r.first_surname,
                               second_surname=r.second_surname, sex=r.sex, birth_date=r.birth_date,
                               birth_year=r.birth_year, precision=r.precision, nationality=r.nationality)
        keys = list(blocking.query_keys(identity))
        # Whichever runs first reads the shared key pages from disk or the OS cache: alternate,
        # so neither side always gets the other's warm pages.
        for side in (("ours", "raw") if len(ours) % 2 == 0 else ("raw", "ours")):
            started = time.perf_counter()
            if side == "ours":
                engine.match_identity(identity)
                ours.append((time.perf_counter() - started) * 1000)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(RAW_LOOKUP, [keys])
                    found.append(len(cursor.fetchall()))
                raw.append((time.perf_counter() - started) * 1000)
    return ours, raw, statistics.mean(found)


def import_throughput(user, place, rows: int, seed: int) -> tuple[int, float, int]:
    """Rows imported, seconds and SQL statements of the real import of ``rows`` new synthetic
    rows (with duplicates)."""
    from django.conf import settings
    from django.db import connection

    from registry.resolution import synthetic
    from registry.resolution.importer.runner import ImportOptions, run_import

    # A fresh seed each run: with --reuse, earlier imported rows (and documents) are still there.
    records = synthetic.generate(int(rows / 1.36), seed=seed + int(time.time()))[:rows]
    with tempfile.TemporaryDirectory() as tmp:
        settings.IMPORT_DIR = Path(tmp) / "imports"
        path = Path(tmp) / "rows.csv"
        write_csv(records, path)
        statements = []

        def count(execute, sql, params, many, context):
            statements.append(1)
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            result = run_import(path, ImportOptions(actor=user, place_code=place.code, legal_basis="public_interest"))
        seconds = time.perf_counter() - started
    assert result.counts["failed"] == 0, result.lines[:3]
    return result.counts["imported"], seconds, len(statements)


PERSON_IDS = "(SELECT id FROM registry_person WHERE created_at >= %s)"
WRITTEN = {  # table -> the column that ties its rows to the people the import created
    "registry_person": "id", "registry_registration": "person_id", "registry_personnameterm": "person_id",
    "registry_personblockingkey": "person_id", "registry_identitydocument": "person_id",
    "registry_groupmembership": "person_id", "registry_travelgroup": None,
}


def bare_inserts(since: dt.datetime) -> dict:
    """The rows the import wrote, re-inserted into empty copies of their tables with
    executemany and with COPY; seconds of each and the row count."""
    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        raw = cursor.cursor
        data = {}
        for table, column in WRITTEN.items():
            where = (sql.SQL("created_at >= %s") if column is None
                     else sql.SQL("{} IN " + PERSON_IDS).format(sql.Identifier(column)))
            raw.execute(sql.SQL("SELECT * FROM {} WHERE ").format(sql.Identifier(table)) + where, [since])
            data[table] = ([c.name for c in raw.description], raw.fetchall())
        copies = {table: sql.Identifier(f"bench_{table}") for table in data}
        for table, copy_name in copies.items():
            raw.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(copy_name))
            raw.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING INDEXES)").format(
                copy_name, sql.Identifier(table)))
        statements = {
            table: (sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                copies[table], sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns))),
                sql.SQL("COPY {} ({}) FROM STDIN").format(copies[table], sql.SQL(", ").join(map(sql.Identifier, columns))))
            for table, (columns, _rows) in data.items()
        }
        started = time.perf_counter()
        for table, (_columns, rows) in data.items():
            if rows:
                raw.executemany(statements[table][0], rows)
        executemany = time.perf_counter() - started
        for copy_name in copies.values():
            raw.execute(sql.SQL("TRUNCATE {}").format(copy_name))
        started = time.perf_counter()
        for table, (_columns, rows) in data.items():
            with raw.copy(statements[table][1]) as copy:
                for row in rows:
                    copy.write_row(row)
        copy_seconds = time.perf_counter() - started
        for copy_name in copies.values():
            raw.execute(sql.SQL("DROP TABLE {}").format(copy_name))
    return {"executemany": executemany, "copy": copy_seconds, "rows": {t: len(r) for t, (_c, r) in data.items()}}


def main() -> None:
    args = parse_args()
    if not args.reuse:
        recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.db import transaction

    from accounts.models import User
    from crossings.models import Place

    if args.reuse:
        user, place = User.objects.get(username="bench-supervisor"), Place.objects.get(code="BENCH-01")
        from registry.resolution import synthetic

        sample = synthetic.generate(min(args.people, 50_000), duplicate_rate=0.0, seed=args.seed)
        print("reusing the loaded people (sample regenerated from the first chunk)")
    else:
        user, place = fixtures()
        started = time.perf_counter()
        people, keys, sample = load_people(args.people, args.seed, args.imprecise)
        print(f"loaded {people:,} people and {keys:,} blocking keys in {time.perf_counter() - started:.0f} s")
    with transaction.atomic():
        ours, raw, candidates = lookups(sample, args.lookups, args.seed)
    p50, p95, r50, r95 = (percentile(ours, 50), percentile(ours, 95), percentile(raw, 50), percentile(raw, 95))
    print(f"lookup + scoring of one new registration over {len(ours)} lookups (mean {candidates:.1f} blocked candidates):")
    print(f"  engine.match_identity  p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    print(f"  raw indexed SQL        p50 {r50:7.2f} ms   p95 {r95:7.2f} ms")
    print(f"  ratio                  p50 {p50 / r50:7.2f} x   p95 {p95 / r95:7.2f} x   (goal <= 2 x)")
    since = dt.datetime.now(dt.UTC)
    imported, seconds, statements = import_throughput(user, place, args.import_rows, args.seed)
    bare = bare_inserts(since)
    ours_rate = imported / seconds
    many_rate, copy_rate = imported / bare["executemany"], imported / bare["copy"]
    print(f"import of {imported:,} rows ({sum(bare['rows'].values()):,} final rows in {len(bare['rows'])} tables):")
    print(f"  import_registrations   {ours_rate:10.1f} rows/s   ({statements / args.import_rows:.2f} SQL statements per row)")
    print(f"  psycopg executemany    {many_rate:10.1f} rows/s   import = {100 * ours_rate / many_rate:.1f} % (goal >= 10 %)")
    print(f"  psycopg COPY           {copy_rate:10.1f} rows/s   import = {100 * ours_rate / copy_rate:.1f} %")


if __name__ == "__main__":
    main()
