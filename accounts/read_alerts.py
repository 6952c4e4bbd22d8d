"""Read-volume alerts (SECURITY.md LG-5, API6): too many distinct people read by one user.

Every ``evaluate_read_volume`` run (Celery beat, ``accounts.evaluate_read_volume``) counts, per
user, the distinct persons in the access log over the last hour with one SQL aggregate. Above
``settings.READ_ALERT_THRESHOLD`` it records a ``read_volume_alert`` security event and, when
``settings.READ_ALERT_SUSPEND`` is on, deactivates the user, which ends their sessions at once
(``accounts.sessions``). A user already alerted in the window is not alerted again.

Layering: accounts sits below privacy, so the access-log table is looked up through the app
registry and read with SQL, never imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import SecurityEvent, User
from accounts.security_events import Kind, record

WINDOW = timedelta(hours=1)
PERSON_TYPE = "registry.person"

# One row per user over the threshold: (user_id, distinct persons). {table} is the model's table.
_SQL = {
    "postgresql": """
        SELECT log.user_id, COUNT(DISTINCT item.value) AS persons
        FROM {table} AS log
        CROSS JOIN LATERAL jsonb_array_elements_text(log.object_ids) AS item(value)
        WHERE log.at >= %s AND log.object_type = %s AND log.user_id IS NOT NULL
        GROUP BY log.user_id
        HAVING COUNT(DISTINCT item.value) > %s
    """,
    "sqlite": """
        SELECT log.user_id, COUNT(DISTINCT item.value) AS persons
        FROM {table} AS log, json_each(log.object_ids) AS item
        WHERE log.at >= %s AND log.object_type = %s AND log.user_id IS NOT NULL
        GROUP BY log.user_id
        HAVING COUNT(DISTINCT item.value) > %s
    """,
}


@dataclass(frozen=True)
class Offender:
    user_id: str
    persons: int


def heavy_readers(since: datetime, threshold: int) -> list[Offender]:
    """Users who read more than ``threshold`` distinct persons since ``since``."""
    table = connection.ops.quote_name(apps.get_model("privacy", "AccessLog")._meta.db_table)
    sql = _SQL[connection.vendor].format(table=table)
    params = [connection.ops.adapt_datetimefield_value(since), PERSON_TYPE, threshold]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Offender(str(user_id), int(persons)) for user_id, persons in cursor.fetchall()]


def already_alerted(user_id: str, since: datetime) -> bool:
    return SecurityEvent.objects.filter(kind=Kind.READ_VOLUME_ALERT, user_id=user_id, at__gte=since).exists()


def alert(offender: Offender, threshold: int, suspend: bool) -> None:
    """Record the alert and, if configured, deactivate the user (their sessions end with it)."""
    user = User.objects.get(pk=offender.user_id)
    record(Kind.READ_VOLUME_ALERT, user=user, persons=offender.persons, threshold=threshold, window="1h")
    if suspend and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        record(Kind.USER_SUSPENDED, user=user, reason="read_volume_alert")


def evaluate_read_volume(now: datetime | None = None) -> int:
    """Alert on (and possibly suspend) heavy readers of the last hour; return how many."""
    since = (now or timezone.now()) - WINDOW
    threshold = settings.READ_ALERT_THRESHOLD
    suspend = settings.READ_ALERT_SUSPEND
    alerted = 0
    for offender in heavy_readers(since, threshold):
        if already_alerted(offender.user_id, since):
            continue
        with transaction.atomic():
            alert(offender, threshold, suspend)
        alerted += 1
    return alerted
