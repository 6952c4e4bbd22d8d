"""Aggregation SQL: the database counts, Python never loops over source rows.

``people_seen`` is the relation every flow report groups: one row per identified event
(n = 1, with the person's sex, age bracket on the local date and nationality) and one row per
non-empty cell of a head count (n = the cell). Dates are local to the place; a UTC range one
day wider than the period lets the ``(place, occurred_at)`` index do the coarse filtering.

``aggregate_sql`` groups a source by its key columns: measures are ``SUM(n) FILTER (WHERE ...)``,
the row total is ``SUM(n)``, and one more row carries the column totals.

Two dialects, one meaning:

* **PostgreSQL** (production, tests, the benchmark): ``AT TIME ZONE`` for the local date,
  ``age()`` for ages, ``CROSS JOIN LATERAL (VALUES ...)`` to unpivot head counts and
  ``GROUP BY GROUPING SETS ((keys), ())`` for rows and totals in one statement.
* **SQLite** (the embedded demo, ``make run``): Django's own ``django_datetime_cast_date``
  function for the local date, ISO-text arithmetic for ages, a join with the constant list of
  head-count cells, and ``UNION ALL`` of the grouped rows and the totals row. The smoke set
  checks that both give the same numbers.

Key and measure SQL are constants of this package; every value from a request travels as a
bound parameter (``bind`` adapts them to what SQLite stores).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from django.db import connection

from reports.vocabulary import BRACKETS, NO_VULNERABILITY, VULNERABILITY_NOT_RECORDED

_SEX = "CASE WHEN p.sex IN ('f', 'm', 'x') THEN p.sex ELSE 'u' END"
_CELL_CODES = [(s, b) for s in ("f", "m", "x") for b in BRACKETS]


@dataclass(frozen=True)
class Measure:
    key: str
    condition: str  # SQL over the source's columns, e.g. "s.sex = 'f'"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- dialect pieces --------------------------------------------------------------------------


def local_day(timestamp: str, zone: str) -> str:
    """The calendar date of a UTC ``timestamp`` at a place whose zone is the column ``zone``."""
    if is_postgres():
        return f"(({timestamp}) AT TIME ZONE {zone})::date"
    return f"django_datetime_cast_date({timestamp}, {zone}, 'UTC')"


def place_filter(column: str) -> str:
    """`` AND column IN (the bound place ids)``."""
    if is_postgres():
        return f" AND {column} = ANY(%(place_ids)s)"
    return f" AND {column} IN (SELECT value FROM json_each(%(place_ids)s))"  # nosec B608 # noqa: S608 - column is a constant


def week_start(day: str) -> str:
    """The Monday of ``day``'s week."""
    return f"date_trunc('week', {day})::date" if is_postgres() else f"date({day}, '-6 days', 'weekday 1')"


def month(day: str) -> str:
    """``YYYY-MM``."""
    return f"to_char({day}, 'YYYY-MM')" if is_postgres() else f"substr({day}, 1, 7)"


def _age(day: str) -> str:
    if is_postgres():
        return (f"CASE WHEN p.birth_date IS NOT NULL THEN date_part('year', age({day}, p.birth_date)) "
                f"WHEN p.birth_year IS NOT NULL THEN date_part('year', {day}) - p.birth_year END")
    year = f"CAST(substr({day}, 1, 4) AS INTEGER)"
    return (f"CASE WHEN p.birth_date IS NOT NULL THEN {year} - CAST(substr(p.birth_date, 1, 4) AS INTEGER)"
            f" - (substr({day}, 6, 5) < substr(p.birth_date, 6, 5)) "
            f"WHEN p.birth_year IS NOT NULL THEN {year} - p.birth_year END")


def _bracket(day: str) -> str:
    age = _age(day)
    return (f"CASE WHEN ({age}) IS NULL THEN 'unknown' WHEN ({age}) < 5 THEN '0_4' WHEN ({age}) < 12 THEN '5_11' "
            f"WHEN ({age}) < 18 THEN '12_17' WHEN ({age}) < 60 THEN '18_59' ELSE '60' END")


def bind(params: dict) -> dict:
    """Parameters as the backend takes them: PostgreSQL adapts Python values itself; SQLite
    gets the text Django stores (naive UTC timestamps, ISO dates, ids as a JSON list)."""
    if is_postgres():
        return params
    bound = {}
    for key, value in params.items():
        if isinstance(value, dt.datetime):
            bound[key] = connection.ops.adapt_datetimefield_value(value)
        elif isinstance(value, dt.date):
            bound[key] = value.isoformat()
        elif isinstance(value, list | tuple):
            bound[key] = json.dumps([v.hex if isinstance(v, uuid.UUID) else v for v in value])
        else:
            bound[key] = value
    return bound


# --- sources ---------------------------------------------------------------------------------


def people_seen(*, with_vulnerability: bool, places: bool) -> str:
    """SQL of the people-seen relation (columns: place_id, day, direction, kind, nationality,
    sex, bracket, vulnerability, n). With vulnerability, an identified person with several
    active flags gives one row per flag (documented in docs/reports.md)."""
    vuln_join = "LEFT JOIN registry_vulnerability v ON v.person_id = p.id AND v.is_active" if with_vulnerability else ""
    vuln = f"COALESCE(v.kind, '{NO_VULNERABILITY}')" if with_vulnerability else "''"
    head_vuln = VULNERABILITY_NOT_RECORDED if with_vulnerability else ""
    if is_postgres():
        return _people_seen_postgres(vuln_join, vuln, head_vuln, places)
    return _people_seen_sqlite(vuln_join, vuln, head_vuln, places)


def _people_seen_postgres(vuln_join: str, vuln: str, head_vuln: str, places: bool) -> str:
    where = ("e.occurred_at >= %(lo)s AND e.occurred_at < %(hi)s AND d.day BETWEEN %(date_from)s AND %(date_to)s"
             + (place_filter("e.place_id") if places else ""))
    local = "CROSS JOIN LATERAL (SELECT (e.occurred_at AT TIME ZONE pl.time_zone)::date AS day) d"
    cells = ", ".join(f"('{s}', '{b}', h.{s}_{b})" for s, b in _CELL_CODES)
    return f"""
        SELECT e.place_id, d.day, e.direction, e.kind, p.nationality, {_SEX} AS sex,
               {_bracket("d.day")} AS bracket, {vuln} AS vulnerability, 1 AS n
          FROM transit_transitevent e
          JOIN crossings_place pl ON pl.id = e.place_id
          JOIN registry_person p ON p.id = e.person_id
          {local}
          {vuln_join}
         WHERE {where}
        UNION ALL
        SELECT e.place_id, d.day, e.direction, e.kind, h.nationality, c.sex, c.bracket,
               '{head_vuln}' AS vulnerability, c.n
          FROM transit_transitevent e
          JOIN crossings_place pl ON pl.id = e.place_id
          JOIN transit_headcount h ON h.id = e.head_count_id
          {local}
          CROSS JOIN LATERAL (VALUES {cells}) AS c(sex, bracket, n)
         WHERE c.n > 0 AND {where}
    """  # nosec B608 # noqa: S608 - fixed SQL of this module; values are bound parameters


def _people_seen_sqlite(vuln_join: str, vuln: str, head_vuln: str, places: bool) -> str:
    events = f"""(SELECT e.place_id, e.direction, e.kind, e.person_id, e.head_count_id,
                         {local_day("e.occurred_at", "pl.time_zone")} AS day
                    FROM transit_transitevent e JOIN crossings_place pl ON pl.id = e.place_id
                   WHERE e.occurred_at >= %(lo)s AND e.occurred_at < %(hi)s{place_filter("e.place_id") if places else ""}) d"""  # nosec B608 # noqa: S608
    in_period = "d.day BETWEEN %(date_from)s AND %(date_to)s"
    cells = " UNION ALL ".join(f"SELECT '{s}' AS sex, '{b}' AS bracket" for s, b in _CELL_CODES)
    value = "CASE " + " ".join(f"WHEN c.sex = '{s}' AND c.bracket = '{b}' THEN h.{s}_{b}" for s, b in _CELL_CODES) + " END"
    return f"""
        SELECT d.place_id, d.day, d.direction, d.kind, p.nationality, {_SEX} AS sex,
               {_bracket("d.day")} AS bracket, {vuln} AS vulnerability, 1 AS n
          FROM {events}
          JOIN registry_person p ON p.id = d.person_id
          {vuln_join}
         WHERE {in_period}
        UNION ALL
        SELECT place_id, day, direction, kind, nationality, sex, bracket, vulnerability, n FROM (
            SELECT d.place_id, d.day, d.direction, d.kind, h.nationality, c.sex, c.bracket,
                   '{head_vuln}' AS vulnerability, {value} AS n
              FROM {events}
              JOIN transit_headcount h ON h.id = d.head_count_id
              CROSS JOIN ({cells}) c
             WHERE {in_period}
        ) cells WHERE n > 0
    """  # nosec B608 # noqa: S608 - fixed SQL of this module; values are bound parameters


def registrations_source(*, places: bool) -> str:
    """Registrations registered in the period, with their age in days at the reference date."""
    day = local_day("r.registered_at", "pl.time_zone")
    if is_postgres():
        age_days = f"GREATEST(0, %(reference)s::date - {day})"
    else:
        age_days = f"MAX(0, CAST(julianday(%(reference)s) - julianday({day}) AS INTEGER))"
    return f"""
        SELECT r.place_id, r.status, {age_days} AS age_days, 1 AS n
          FROM registry_registration r JOIN crossings_place pl ON pl.id = r.place_id
         WHERE {day} BETWEEN %(date_from)s AND %(date_to)s{place_filter("r.place_id") if places else ""}
    """  # nosec B608 # noqa: S608 - fixed SQL of this module; values are bound parameters


def referrals_source(*, places: bool) -> str:
    """Referrals made in the period, placed where the registration was (else the destination)."""
    return f"""
        SELECT pl.id AS place_id, f.service, f.status, 1 AS n
          FROM registry_referral f
          LEFT JOIN registry_registration r ON r.id = f.registration_id
          JOIN crossings_place pl ON pl.id = COALESCE(r.place_id, f.to_place_id)
         WHERE {local_day("f.created_at", "pl.time_zone")} BETWEEN %(date_from)s AND %(date_to)s{place_filter("pl.id") if places else ""}
    """  # nosec B608 # noqa: S608 - fixed SQL of this module; values are bound parameters


def data_quality_source(*, places: bool) -> str:
    """One row per registration in the period with its quality flags."""
    return f"""
        SELECT r.place_id, 1 AS n,
               (r.status = 'draft' AND r.created_at < %(stale_before)s) AS stale_draft,
               (r.status = 'needs_correction') AS needs_correction,
               (r.purpose = '') AS missing_purpose,
               (p.nationality = '') AS missing_nationality,
               (p.birth_date IS NULL AND p.birth_year IS NULL) AS missing_birth,
               (p.sex NOT IN ('f', 'm', 'x')) AS sex_not_recorded,
               EXISTS (SELECT 1 FROM registry_duplicatecandidate dc
                        WHERE dc.status = 'pending' AND (dc.person_a_id = p.id OR dc.person_b_id = p.id)) AS pending_duplicate
          FROM registry_registration r
          JOIN registry_person p ON p.id = r.person_id
          JOIN crossings_place pl ON pl.id = r.place_id
         WHERE {local_day("r.registered_at", "pl.time_zone")} BETWEEN %(date_from)s AND %(date_to)s{place_filter("r.place_id") if places else ""}
    """  # nosec B608 # noqa: S608 - fixed SQL of this module; values are bound parameters


# --- aggregation -----------------------------------------------------------------------------


def aggregate_sql(source: str, keys: list[str], measures: list[Measure], *, row_total: bool) -> str:
    """Rows grouped by ``keys`` and one totals row (flagged ``is_total``), sorted by the keys."""
    measure_sql = [f"COALESCE(SUM(s.n) FILTER (WHERE {m.condition}), 0)" for m in measures]
    if row_total:
        measure_sql.append("COALESCE(SUM(s.n), 0)")
    measure_list = ", ".join(measure_sql)
    body = f"FROM ({source}) s JOIN crossings_place pl ON pl.id = s.place_id"
    if not keys:
        return f"SELECT {measure_list}, 1 AS is_total {body}"  # nosec B608 # noqa: S608 - constants
    key_list = ", ".join(keys)
    if is_postgres():
        return (f"SELECT {key_list}, {measure_list}, GROUPING({keys[0]}) AS is_total {body} "  # nosec B608 # noqa: S608 - constants
                f"GROUP BY GROUPING SETS (({key_list}), ()) ORDER BY is_total, {key_list}")
    nulls = ", ".join("NULL" for _ in keys)
    order = ", ".join(str(i + 1) for i in range(len(keys)))
    return (f"SELECT {key_list}, {measure_list}, 0 AS is_total {body} GROUP BY {key_list} "  # nosec B608 # noqa: S608 - constants
            f"UNION ALL SELECT {nulls}, {measure_list}, 1 {body} ORDER BY {len(keys) + len(measure_sql) + 1}, {order}")


def run(sql: str, params: dict, n_keys: int) -> tuple[list[tuple], list[int]]:
    """Execute an aggregate: (rows without the flag, the totals row's counts)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, bind(params))
        result = cursor.fetchall()
    rows = [tuple(row[:-1]) for row in result if not row[-1]]
    totals = next((row for row in result if row[-1]), None)
    width = len(result[0]) - 1 - n_keys if result else 0
    return rows, [int(v or 0) for v in totals[n_keys:-1]] if totals else [0] * width


def utc_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A UTC range that surely contains every local day of the period (zones are UTC−6/−5)."""
    lo = dt.datetime.combine(date_from - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    hi = dt.datetime.combine(date_to + dt.timedelta(days=2), dt.time.min, tzinfo=dt.UTC)
    return lo, hi
