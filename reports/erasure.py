"""The reports' part in erasing a person (``privacy.erasure``): stored report files whose period
covers a day the person was registered or seen are removed with their runs (a new request builds
them afresh), and cached dashboard aggregates move to a new generation. Registered from
``ReportsConfig.ready``."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from reports import generation
from reports.models import ReportRun
from reports.signals import bump_dashboard_version


def _person_days(person) -> set[dt.date]:
    days = {timezone.localdate(at) for at in person.registrations.values_list("registered_at", flat=True)}
    days |= {timezone.localdate(at) for at in person.transit_events.values_list("occurred_at", flat=True)}
    return days


def _covers(parameters: dict, days: set[dt.date]) -> bool:
    try:
        start = dt.date.fromisoformat(str(parameters.get("date_from")))
        end = dt.date.fromisoformat(str(parameters.get("date_to")))
    except ValueError:
        return True  # a run whose period cannot be read is removed rather than kept by mistake
    return any(start <= day <= end for day in days)


def scrub(actor, person) -> dict[str, int]:
    days = _person_days(person)
    removed = 0
    if days:
        for run in ReportRun.objects.filter(finished_at__isnull=False):
            if _covers(run.parameters or {}, days):
                generation.remove_stored_files(run)
                run.delete()
                removed += 1
    return {"report_runs": removed}


def announce(person) -> None:
    bump_dashboard_version()


def register_erasure_part() -> None:
    from privacy.erasure import ErasurePart, register

    register(ErasurePart("reports", scrub=scrub, announce=announce))
