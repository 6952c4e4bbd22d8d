"""Report schedules in django-celery-beat, created once and then editable by admins.

``sync_schedules`` runs after ``migrate`` (post_migrate). It creates a ``PeriodicTask`` per
scheduled kind *only if none with that name exists*: an admin who moved the daily report to
07:00 or disabled it keeps the change. Running it twice changes nothing.
"""

from __future__ import annotations

import json

SCHEDULE_TIME_ZONE = "America/Mexico_City"
# name -> (task, kwargs, crontab fields)
SCHEDULES = {
    "reports: daily flows": ("reports.run_scheduled", {"kind": "daily_flows"},
                             {"minute": "0", "hour": "6", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}),
    "reports: weekly summary": ("reports.run_scheduled", {"kind": "weekly_summary"},
                                {"minute": "0", "hour": "6", "day_of_week": "1", "day_of_month": "*", "month_of_year": "*"}),
    "reports: monthly statistics": ("reports.run_scheduled", {"kind": "monthly_statistics"},
                                    {"minute": "0", "hour": "6", "day_of_week": "*", "day_of_month": "1", "month_of_year": "*"}),
}


def sync_schedules(**kwargs) -> int:
    """Create the missing report schedules; returns how many were created."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = 0
    for name, (task, task_kwargs, fields) in SCHEDULES.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(timezone=SCHEDULE_TIME_ZONE, **fields)
        PeriodicTask.objects.create(name=name, task=task, crontab=crontab, kwargs=json.dumps(task_kwargs))
        created += 1
    return created
