"""What every benchmark script shares: synthetic keys for its own throw-away database, creating
that database afresh, configuring Django against it, and COPY-loading rows.

The scripts run as ``uv run --frozen python bench/<name>.py``, so this folder is on ``sys.path``
and they import ``common`` directly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Synthetic keys for the benchmark databases only (never used elsewhere). Tasks run in-process.
BENCH_ENV = {
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "FIELD_ENCRYPTION_KEYS": "t1:dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZyEhISE=",
    "BLIND_INDEX_KEY": "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMhISE=",
    "PSEUDONYM_KEY": "dGVzdC1wc2V1ZG9ueW0ta2V5LTMyLWJ5dGVzLW9rISE=",
    "CARD_SIGNING_KEY": "dGVzdC1jYXJkLXNpZ25pbmcta2V5LTMyLWJ5dGVzISE=",
    "DEBUG": "true",
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "",
}


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database named by ``url`` (never the test or app one)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


@contextmanager
def without_triggers(cursor) -> Iterator[None]:
    """Load synthetic rows as a restore would: no trigger fires (no history row per loaded row,
    no FK check), as the superuser of the bench's own database. Back to normal afterwards, so
    what is measured runs with every trigger."""
    cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        cursor.execute("RESET session_replication_role")


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    """COPY ``rows`` into ``table`` (the fastest bulk load PostgreSQL has) without triggers;
    returns the count."""
    count = 0
    with without_triggers(cursor), cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
