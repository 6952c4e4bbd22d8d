"""A test-only consumer whose effect is counted outside the dedup table.

``CALLS`` counts deliveries, ``EFFECTS`` counts work actually done; with ``consume_once`` a
redelivery raises CALLS but not EFFECTS.
"""

from __future__ import annotations

import threading
from collections import Counter

from django.db import connection

from config.celery import app
from privacy.outbox import consume_once

CALLS: Counter[str] = Counter()
EFFECTS: Counter[str] = Counter()
_lock = threading.Lock()


@app.task(name="tests.privacy.count_effect", ignore_result=True)
def count_effect(*, outbox_id: str, close_connection: bool = False) -> None:
    try:
        with consume_once(outbox_id, "tests.privacy.count_effect") as first_time:
            if first_time:
                with _lock:
                    EFFECTS[outbox_id] += 1
    finally:
        with _lock:
            CALLS[outbox_id] += 1
        if close_connection:
            connection.close()  # the worker thread's connection must not outlive the test database
