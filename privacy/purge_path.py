"""The one logged path through the append-only triggers (SECURITY.md LG-3).

Audit tables refuse UPDATE and DELETE on PostgreSQL. Retention and erasure are the only code
allowed to remove rows from them: inside ``purge_path()`` the transaction-local setting
``frontera.purge`` is ``on``, which the triggers accept (privacy migration 0004). Every use is
recorded by its caller (``RetentionRun`` or ``ErasureRecord``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

SETTING = "frontera.purge"


@contextmanager
def purge_path() -> Iterator[None]:
    """Open the purge path for the current transaction only (must be inside ``atomic``)."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "purge_path() must run inside transaction.atomic()"
        )
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [SETTING])
    yield  # on an error the transaction (or its savepoint) rolls back, and the setting with it
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'off', true)", [SETTING])
