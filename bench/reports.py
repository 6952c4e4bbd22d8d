"""Benchmark: the monthly statistics report end to end (``reports.generation.build_files``:
SQL aggregation, suppression, CSV + XLSX + HXL + PDF) against the bare SQL GROUP BY that
computes the same numbers.

Loads N transit events over three years (default 10,000,000; about 70 % identified people,
30 % anonymous head counts) with COPY into a separate database, then measures in a fresh child
process (the worker's shape): the service's time and the raw query's time (best of
``--repeat``), their ratio (goal <= 1.5 x) and the child's peak memory (tracemalloc peak of
Python allocations and ``ru_maxrss``). Run it at two sizes to see memory stay flat: it depends
on the number of output rows (months x places x nationalities x vulnerabilities), not events.

    uv run --frozen python bench/reports.py                       # 10,000,000 events
    uv run --frozen python bench/reports.py --events 1000000
    uv run --frozen python bench/reports.py --reuse               # measure again, no reload

The period spans the three years on purpose, beyond REPORT_MAX_DAYS (a limit of the request
form and the command, not of the service).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import (  # bench/ is sys.path[0] when run as a script
    copy_rows,
    recreate_database,
    setup_django,
)

START = dt.datetime(2023, 1, 1, 6, tzinfo=dt.UTC)
DAYS = 3 * 365
ZONES = ["America/Mexico_City", "America/Guatemala", "America/Cancun"]
NATIONALITIES = ["GT", "GT", "GT", "HN", "HN", "SV", "VE", "HT", "CU", "NI", "EC", "CO"]
VULNERABILITIES = ["pregnant_lactating", "disability", "serious_medical", "older_person", "gbv_survivor", "trafficking"]
CELLS = [f"{s}_{b}" for s in ("f", "m", "x") for b in ("0_4", "5_11", "12_17", "18_59", "60")]

RAW_SQL = """
WITH seen AS (
    SELECT pl.code, pl.name, (e.occurred_at AT TIME ZONE pl.time_zone)::date AS day, p.nationality,
           COALESCE(v.kind, 'none') AS vulnerability,
           CASE WHEN p.sex IN ('f', 'm', 'x') THEN p.sex ELSE 'u' END AS sex,
           CASE WHEN a.age IS NULL THEN 'unknown' WHEN a.age < 5 THEN '0_4' WHEN a.age < 12 THEN '5_11'
                WHEN a.age < 18 THEN '12_17' WHEN a.age < 60 THEN '18_59' ELSE '60' END AS bracket, 1 AS n
      FROM transit_transitevent e
      JOIN crossings_place pl ON pl.id = e.place_id
      JOIN registry_person p ON p.id = e.person_id
      LEFT JOIN registry_vulnerability v ON v.person_id = p.id AND v.is_active
      CROSS JOIN LATERAL (SELECT CASE
            WHEN p.birth_date IS NOT NULL THEN date_part('year', age((e.occurred_at AT TIME ZONE pl.time_zone)::date, p.birth_date))
            WHEN p.birth_year IS NOT NULL THEN date_part('year', (e.occurred_at AT TIME ZONE pl.time_zone)::date) - p.birth_year
            END AS age) a
    UNION ALL
    SELECT pl.code, pl.name, (e.occurred_at AT TIME ZONE pl.time_zone)::date, h.nationality, 'not_recorded',
           c.sex, c.bracket, c.n
      FROM transit_transitevent e
      JOIN crossings_place pl ON pl.id = e.place_id
      JOIN transit_headcount h ON h.id = e.head_count_id
      CROSS JOIN LATERAL (VALUES {cells}) AS c(sex, bracket, n)
     WHERE c.n > 0
)
SELECT to_char(day, 'YYYY-MM'), code, name, nationality, vulnerability, {measures}, SUM(n)
  FROM seen WHERE day BETWEEN %(date_from)s AND %(date_to)s
 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
"""


def raw_sql() -> str:
    cells = ", ".join(f"('{c[0]}', '{c[2:]}', h.{c})" for c in CELLS)
    measures = [f"COALESCE(SUM(n) FILTER (WHERE sex = '{c[0]}' AND bracket = '{c[2:]}'), 0)" for c in CELLS]
    measures.append("COALESCE(SUM(n) FILTER (WHERE sex = 'u' OR bracket = 'unknown'), 0)")
    return RAW_SQL.format(cells=cells, measures=", ".join(measures))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each side (best is reported)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/frontera_bench_reports"))
    parser.add_argument("--reuse", action="store_true", help="keep the existing data")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child process
    return parser.parse_args()


def _people(n: int, rng: random.Random, cipher: str, created: dt.datetime):
    for i in range(n):
        birth = rng.randint(1950, 2022)
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), f"B{i:010d}", cipher, cipher, cipher, "[]",
               rng.choice("ffmmmx u".replace(" ", "")), None, birth, "year", rng.choice(NATIONALITIES), "", "[]",
               "active", 1, created, created)


def _head_counts(n: int, rng: random.Random):
    for _ in range(n):
        cells = [0] * len(CELLS)
        for _k in range(rng.randint(1, 3)):
            cells[rng.randrange(len(CELLS))] = rng.randint(1, 12)
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), rng.choice(NATIONALITIES + [""]), *cells)


def _events(n: int, rng: random.Random, places, people, head_counts, user_id, created):
    identified = len(people)
    for i in range(n):
        at = START + dt.timedelta(seconds=rng.randrange(DAYS * 86_400))
        person, head = (people[rng.randrange(identified)], None) if i % 10 < 7 else (None, head_counts.pop())
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), rng.choice(places), rng.choice(("entry", "exit", "checkpoint")),
               rng.choice(("north", "north", "south", "")), "", at, person, head, user_id, "import", f"b{i}", "-", "", created)


def load_data(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Agency, User
    from crossings.models import Place
    from registry.models import Person

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    agency = Agency.objects.create(code="bench", name="Bench", kind="government")
    user = User.objects.create(username="bench", agency=agency)
    places = [Place.objects.create(code=f"BENCH-{i:02d}", category="crossing", kind="road_bridge", name=f"Bench {i}",
                                   time_zone=ZONES[i % 3], latitude=14.5 + i * 0.2, longitude=-92.2 + i * 0.1,
                                   coord_confidence="medium").pk for i in range(12)]
    cipher = Person._meta.get_field("given_names").get_db_prep_value("Bench", connection)
    created = START
    n_people = max(args.events // 20, 100)
    n_heads = args.events - (args.events // 10) * 7 - min(args.events % 10, 7)
    person_columns = ("id", "reference", "given_names", "first_surname", "second_surname", "aliases", "sex", "birth_date",
                      "birth_year", "birth_precision", "nationality", "country_of_birth", "languages", "status", "version",
                      "created_at", "modified_at")
    head_columns = ("id", "nationality", *CELLS)
    event_columns = ("id", "place_id", "kind", "direction", "mode", "occurred_at", "person_id", "head_count_id",
                     "recorded_by_id", "source", "idempotency_key", "fingerprint", "flag", "created_at")
    people = [row[0] for row in _people(n_people, random.Random(args.seed), "", created)]
    heads = [row[0] for row in _head_counts(n_heads, random.Random(args.seed + 1))]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(raw, "registry_person", person_columns, _people(n_people, random.Random(args.seed), cipher, created))
        vulnerable = rng.sample(people, len(people) // 20)
        copy_rows(raw, "registry_vulnerability", ("id", "person_id", "kind", "unhcr_code", "details", "derived", "is_active", "recorded_at"),
              ((uuid.uuid4(), p, rng.choice(VULNERABILITIES), "", cipher, False, True, created) for p in vulnerable))
        copy_rows(raw, "transit_headcount", head_columns, _head_counts(n_heads, random.Random(args.seed + 1)))
        events = copy_rows(raw, "transit_transitevent", event_columns,
                       _events(args.events, rng, places, people, heads, user.pk, created))
        cursor.execute("ANALYZE")
    print(f"loaded {n_people:,} people, {len(vulnerable):,} vulnerabilities, {n_heads:,} head counts, {events:,} events")


def timed(work):
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def measure(args) -> dict:
    """In the child: time the service and the raw SQL, compare their numbers, report memory."""
    import resource
    import tempfile
    import tracemalloc

    from django.db import connection

    from reports.builders import build_table
    from reports.generation import build_files
    from reports.params import ReportParams

    params = ReportParams(date_from=START.date(), date_to=(START + dt.timedelta(days=DAYS - 1)).date(),
                          formats=("csv", "xlsx", "hxl", "pdf"), grouping="place", language="en")

    def service():
        with tempfile.TemporaryDirectory() as tmp:
            return [(f.format, f.rows, f.size) for f in build_files("monthly_statistics", params, Path(tmp))]

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(raw_sql(), {"date_from": params.date_from, "date_to": params.date_to})
            return cursor.fetchall()

    # Interleaved (raw, service, raw, service...): a busy machine slows both sides alike.
    raw_times, service_times, table_times = [], [], []
    for _ in range(args.repeat):
        elapsed, raw_rows = timed(raw)
        raw_times.append(elapsed)
        elapsed, files = timed(service)
        service_times.append(elapsed)
        elapsed, table = timed(lambda: build_table("monthly_statistics", params))
        table_times.append(elapsed)
    raw_ms, service_ms = min(raw_times), min(service_times)
    tracemalloc.start()  # a separate, untimed pass: tracing slows Python down
    service()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    width = len(table.keys)
    service_rows = [tuple(str(v) for v in row[:width]) + tuple(int(v) for v in row[width:]) for row in table.rows]
    expected = [tuple(str(v) for v in row[:width]) + tuple(int(v) for v in row[width:]) for row in raw_rows]
    assert service_rows == expected, "the service and the raw SQL disagree"
    return {"service_ms": service_ms, "raw_ms": raw_ms, "table_ms": min(table_times), "rows": len(raw_rows), "files": files,
            "tracemalloc_peak_mb": peak / 2**20, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    args = parse_args()
    if args.measure:
        setup_django(args.database_url)
        print(json.dumps(measure(args)))
        return
    if not args.reuse:
        recreate_database(args.database_url)
        setup_django(args.database_url)
        started = time.perf_counter()
        load_data(args)
        print(f"load time: {time.perf_counter() - started:.1f} s")
    child = subprocess.run([sys.executable, __file__, "--measure", "--repeat", str(args.repeat), "--database-url",
                            args.database_url], capture_output=True, text=True, check=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"output rows (month x place x nationality x vulnerability): {result['rows']:,}")
    print("files: " + ", ".join(f"{fmt} {size / 1024:.0f} KiB" for fmt, _rows, size in result["files"]))
    print(f"service (build_files, 4 formats): {result['service_ms']:9.1f} ms")
    print(f"  of which SQL + suppression:     {result['table_ms']:9.1f} ms (build_table alone)")
    print(f"bare SQL GROUP BY:                {result['raw_ms']:9.1f} ms")
    print(f"ratio:                            {result['service_ms'] / result['raw_ms']:9.2f} x (goal <= 1.5 x)")
    print(f"worker peak memory: tracemalloc {result['tracemalloc_peak_mb']:.1f} MiB, ru_maxrss {result['maxrss_mb']:.0f} MiB")


if __name__ == "__main__":
    main()
