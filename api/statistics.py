"""Aggregate statistics for partners: people seen by place × period × nationality, split by
sex × age bracket, counted in SQL (PostgreSQL) over ``reports.sql.people_seen`` and suppressed
below ``settings.SMALL_CELL_K`` (SECURITY.md DP-5).

Each row is one published line: the 15 sex × bracket cells, ``unknown`` (sex or age not
recorded) and ``total``. Primary suppression hides every count ``0 < n < k``; secondary
suppression then hides the smallest other non-zero cell of any row with exactly one hidden
cell, so no hidden count is the total minus the visible ones. Different groupings requested
one after another (day against week) are not protected against each other (docs/api.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from privacy.cells import safe_cell
from reports import sql as report_sql
from reports.vocabulary import BRACKET_HXL, BRACKETS

SEXES = ("f", "m", "x")
SEX_HXL = {"f": "+f", "m": "+m", "x": "+i"}
CELLS = tuple(f"{s}_{b}" for s in SEXES for b in BRACKETS)
COLUMNS = (*CELLS, "unknown", "total")
PERIODS = ("day", "week", "month")


@dataclass
class StatRow:
    period: dt.date
    place: str
    adm1: str
    nationality: str
    counts: dict[str, int]
    suppressed: set[str] = field(default_factory=set)

    def published(self) -> dict[str, int | None]:
        return {name: (None if name in self.suppressed else value) for name, value in self.counts.items()}


def _aggregate_sql() -> str:
    cells = [f"COALESCE(SUM(s.n) FILTER (WHERE s.sex = '{c[0]}' AND s.bracket = '{c[2:]}'), 0)" for c in CELLS]
    unknown = "COALESCE(SUM(s.n) FILTER (WHERE s.sex NOT IN ('f', 'm', 'x') OR s.bracket = 'unknown'), 0)"
    source = report_sql.people_seen(with_vulnerability=False, places=True)
    return (
        "SELECT date_trunc(%(period)s, s.day::timestamp)::date, pl.code, pl.state_code, COALESCE(s.nationality, ''), "  # noqa: S608  # nosec B608 - constants only; values are bound
        f"{', '.join(cells)}, {unknown}, COALESCE(SUM(s.n), 0) "
        f"FROM ({source}) s JOIN crossings_place pl ON pl.id = s.place_id "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4"
    )  # constants of this module and reports.sql; request values are bound parameters


def compute(place_ids: list, date_from: dt.date, date_to: dt.date, period: str) -> list[StatRow]:
    """Suppressed rows for the places and local dates given (``period`` in PERIODS)."""
    if period not in PERIODS:
        raise ValueError("period")
    lo, hi = report_sql.utc_bounds(date_from, date_to)
    params = {"lo": lo, "hi": hi, "date_from": date_from, "date_to": date_to, "place_ids": list(place_ids),
              "period": period}
    with connection.cursor() as cursor:
        cursor.execute(_aggregate_sql(), params)
        result = cursor.fetchall()
    rows = [StatRow(r[0], r[1], r[2] or "", r[3] or "", dict(zip(COLUMNS, map(int, r[4:]), strict=True))) for r in result]
    for row in rows:
        row.suppressed = suppress_line(row.counts, settings.SMALL_CELL_K)
    return rows


def suppress_line(counts: dict[str, int], k: int) -> set[str]:
    """Primary (0 < n < k) then secondary suppression over one line whose parts sum to total."""
    hidden = {name for name, value in counts.items() if 0 < value < k}
    while len(hidden) == 1:
        candidates = [(v, n) for n, v in counts.items() if n not in hidden and v > 0]
        if not candidates:
            break
        hidden.add(min(candidates)[1])
    return hidden


def hxl_header() -> tuple[list[str], list[str]]:
    """The header row and the HXL hashtag row (REFERENCE_DATA.md d3)."""
    names = ["date", "place_code", "adm1_code", "nationality", *[f"count_{c}" for c in CELLS], "count_unknown", "total"]
    tags = ["#date", "#loc+code", "#adm1+code", "#country+code+origin"]
    tags += [f"#affected{SEX_HXL[c[0]]}{BRACKET_HXL[c[2:]]}" for c in CELLS]
    tags += ["#affected+unknown", "#affected+total"]
    return names, tags


def to_hxl_csv(rows: list[StatRow]) -> str:
    """CSV with a header row and a hashtag row; suppressed cells read ``<k``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names, tags = hxl_header()
    writer.writerow(names)
    writer.writerow(tags)
    small = f"<{settings.SMALL_CELL_K}"
    for row in rows:
        counts = [small if name in row.suppressed else row.counts[name] for name in COLUMNS]
        writer.writerow([safe_cell(v) for v in (row.period.isoformat(), row.place, row.adm1, row.nationality, *counts)])
    return out.getvalue()
