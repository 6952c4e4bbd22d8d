"""Benchmark: overstay detection (transit.overstays.overstays, the ORM service) against a
hand-written SQL query that must give the same list.

Creates N people with one visitor card each and M transit events (entries, exits, checkpoints)
in a separate PostgreSQL database with COPY, then times both queries and prints the timings and
their ratio (goal: service <= 1.5 x raw SQL). Both lists must be equal.

    uv run --frozen python bench/overstays.py                       # 100,000 people, 1,000,000 events
    uv run --frozen python bench/overstays.py --people 10000 --events 100000
    uv run --frozen python bench/overstays.py --reuse                # skip loading, time again

The database (default ``frontera_bench``, see ``--database-url``) is dropped and re-created unless
``--reuse`` is given. Rows are loaded directly, not through services: no history rows are made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
import uuid

from common import (  # bench/ is sys.path[0] when run as a script
    copy_rows,
    recreate_database,
    setup_django,
)

ZONES = ["America/Mexico_City", "America/Guatemala", "America/Cancun"]
NATIONALITIES = ["GT", "GT", "GT", "BZ"]
NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)

RAW_SQL = """
WITH last_entry AS (
    SELECT DISTINCT ON (e.person_id) e.id, e.person_id, e.occurred_at, p.time_zone
    FROM transit_transitevent e JOIN crossings_place p ON p.id = e.place_id
    WHERE e.kind = 'entry' AND e.person_id IS NOT NULL
    ORDER BY e.person_id, e.occurred_at DESC
), judged AS (
    SELECT le.id, le.person_id,
        (SELECT LEAST(
                    (((le.occurred_at AT TIME ZONE le.time_zone)::date
                      + CASE pm.kind WHEN 'tvr' THEN 7 END)::timestamp AT TIME ZONE le.time_zone),
                    ((pm.valid_until + 1)::timestamp AT TIME ZONE le.time_zone))
           FROM transit_permit pm
          WHERE pm.person_id = le.person_id AND pm.status <> 'revoked'
            AND pm.valid_from <= (le.occurred_at AT TIME ZONE le.time_zone)::date
            AND pm.valid_until >= (le.occurred_at AT TIME ZONE le.time_zone)::date
          ORDER BY pm.valid_until DESC LIMIT 1) AS deadline,
        (SELECT min(x.occurred_at) FROM transit_transitevent x
          WHERE x.person_id = le.person_id AND x.kind IN ('exit', 'return')
            AND x.occurred_at > le.occurred_at) AS exit_at
    FROM last_entry le
)
SELECT person_id, CASE WHEN exit_at IS NULL THEN 'no_exit' ELSE 'exited_late' END, deadline
FROM judged
WHERE COALESCE(exit_at, %(now)s) > deadline
ORDER BY COALESCE(exit_at, %(now)s) - deadline DESC, id
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query (best is reported)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/frontera_bench"))
    parser.add_argument("--reuse", action="store_true", help="keep the existing data")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def _fixtures():
    from accounts.models import Agency, User
    from crossings.models import Place

    agency = Agency.objects.create(code="bench", name="Bench", kind="government")
    user = User.objects.create(username="bench", agency=agency)
    places = [
        Place.objects.create(code=f"BENCH-{i:02d}", category="crossing", kind="road_bridge", name=f"Bench {i}",
                             time_zone=ZONES[i % len(ZONES)])
        for i in range(12)
    ]
    return agency, user, places


def _person_rows(n: int, rng: random.Random, cipher: str, created: dt.datetime):
    from registry.reference import new_reference

    seen: set[str] = set()
    for _ in range(n):
        ref = new_reference()
        while ref in seen:
            ref = new_reference()
        seen.add(ref)
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), ref, cipher, cipher, cipher, "[]", "f", None, 1990,
               "year", rng.choice(NATIONALITIES), "", "[]", "active", 1, created, created)


def _trip_events(person_id, count: int, rng: random.Random, places):
    """Alternating entries and exits (some late, the last entry sometimes open), with checkpoints."""
    at = NOW - dt.timedelta(days=rng.randint(60, 400))
    place = rng.choice(places)
    kind = "entry"
    for _ in range(count):
        if kind == "entry":
            place = rng.choice(places)
            yield person_id, place, "entry", at
            at += dt.timedelta(hours=rng.randint(2, 24 * (20 if rng.random() < 0.15 else 6)))
            kind = "checkpoint" if rng.random() < 0.1 else "exit"
        elif kind == "checkpoint":
            yield person_id, place, "checkpoint", at
            at += dt.timedelta(hours=rng.randint(1, 48))
            kind = "exit"
        else:
            yield person_id, place, "exit", at
            at += dt.timedelta(hours=rng.randint(12, 24 * 10))
            kind = "entry"
        if at > NOW:
            return


def main() -> None:
    args = parse_args()
    if not args.reuse:
        recreate_database(args.database_url)
    setup_django(args.database_url)
    if not args.reuse:
        started = time.perf_counter()
        counts = load_data(args)
        print(f"loaded {counts[0]:,} people, {counts[1]:,} permits, {counts[2]:,} events in {time.perf_counter() - started:.1f} s")
    service_ms, service_rows = time_it(args.repeat, service_list)
    raw_ms, raw_rows = time_it(args.repeat, raw_list)
    assert service_rows == raw_rows, "the service and the raw SQL disagree"
    print(f"overstays found: {len(service_rows):,}")
    print(f"service (ORM): {service_ms:8.1f} ms")
    print(f"raw SQL:       {raw_ms:8.1f} ms")
    print(f"ratio:         {service_ms / raw_ms:8.2f} x (goal <= 1.5 x)")


def load_data(args) -> tuple[int, int, int]:
    from django.core.management import call_command
    from django.db import connection

    from registry.models import Person

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    agency, user, places = _fixtures()
    field = Person._meta.get_field("given_names")
    cipher = field.get_db_prep_value("Bench", connection)  # one synthetic ciphertext for every row
    created = NOW - dt.timedelta(days=500)
    person_columns = ("id", "reference", "given_names", "first_surname", "second_surname", "aliases", "sex",
                      "birth_date", "birth_year", "birth_precision", "nationality", "country_of_birth", "languages",
                      "status", "version", "created_at", "modified_at")
    people = list(_person_rows(args.people, rng, cipher, created))
    place_ids = [p.pk for p in places]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(raw, "registry_person", person_columns, people)
        permits = copy_rows(raw, "transit_permit", ("id", "person_id", "kind", "number", "valid_from", "valid_until",
                                                "allowed_states", "status", "status_reason", "issued_by_id", "issued_at"),
                        _permit_rows(people, rng, user.pk))
        events = copy_rows(raw, "transit_transitevent", ("id", "place_id", "kind", "direction", "mode", "occurred_at",
                                                     "person_id", "recorded_by_id", "source", "idempotency_key",
                                                     "fingerprint", "flag", "created_at"),
                       _event_rows(people, args.events, rng, place_ids, user.pk))
        cursor.execute("ANALYZE")
    return len(people), permits, events


def _permit_rows(people, rng: random.Random, user_id):
    from transit.permit_rules import PERMIT_RULES

    start = (NOW - dt.timedelta(days=420)).date()
    for i, person in enumerate(people):
        kind = "tvtf" if rng.random() < 0.1 else "tvr"
        until = start + dt.timedelta(days=PERMIT_RULES[kind].max_validity_days - 1)
        status = "revoked" if rng.random() < 0.01 else "active"
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), person[0], kind, f"B-{kind}-{i:08d}", start, until,
               '["MX-CHP"]', status, "", user_id, NOW)


def _event_rows(people, total: int, rng: random.Random, place_ids, user_id):
    per_person = max(1, total // len(people))
    extra = total - per_person * len(people)
    for i, person in enumerate(people):
        count = per_person + (1 if i < extra else 0)
        for person_id, place, kind, at in _trip_events(person[0], count, rng, place_ids):
            event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            yield (event_id, place, kind, "", "", at, person_id, user_id, "import", event_id.hex, "bench", "", NOW)


def service_list() -> list[tuple]:
    from transit.overstays import overstays

    return [(row.person_id, row.overstay, row.deadline) for row in overstays(at=NOW).only("id", "person_id")]


def raw_list() -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, {"now": NOW})
        return [tuple(row) for row in cursor.fetchall()]


def time_it(repeat: int, func) -> tuple[float, list]:
    timings, rows = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = func()
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings), sorted(rows)


if __name__ == "__main__":
    main()
