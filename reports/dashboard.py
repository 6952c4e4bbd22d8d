"""Dashboard aggregates: one SQL statement with GROUPING SETS, small cells suppressed, cached.

Every breakdown (per day, per place, sex × age, nationality, vulnerability) comes from one scan
of the people-seen relation (``reports.sql.people_seen``) grouped by
``GROUPING SETS ((day), (place), (sex, bracket), (nationality), (vulnerability))`` (on SQLite,
the embedded demo, one ``GROUP BY`` per breakdown). Each
breakdown is then suppressed on its own (``suppress_series``: under k hidden, plus one more when
exactly one is hidden). The result is cached under a key holding the dashboard version, which
a ``post_save`` signal on TransitEvent and Registration bumps: new data, new key.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _

from crossings.models import Place
from reports.builders import CountryNames
from reports.signals import dashboard_version
from reports.sql import bind, is_postgres, people_seen, utc_bounds
from reports.suppression import suppress_series
from reports.vocabulary import (
    BRACKET_LABELS,
    BRACKETS,
    NO_VULNERABILITY,
    VULNERABILITY_LABELS,
    VULNERABILITY_NOT_RECORDED,
)

SETS = ("day", "place", "pyramid", "nationality", "vulnerability")

_SQL = """
SELECT GROUPING(s.day), GROUPING(pl.code), GROUPING(s.sex), GROUPING(s.nationality), GROUPING(s.vulnerability),
       s.day, pl.code, s.sex, s.bracket, s.nationality, s.vulnerability, SUM(s.n)
  FROM ({source}) s JOIN crossings_place pl ON pl.id = s.place_id
 GROUP BY GROUPING SETS ((s.day), (pl.code), (s.sex, s.bracket), (s.nationality), (s.vulnerability))
"""


def _which(flags: tuple) -> str:
    """The grouping set of a result row (the one whose columns are not rolled up)."""
    return SETS[[i for i, flag in enumerate(flags) if flag == 0][0]]


_SQLITE_SETS = {  # the same breakdowns on SQLite (no GROUPING SETS): one GROUP BY each
    "day": "s.day", "place": "pl.code", "pyramid": "s.sex, s.bracket", "nationality": "s.nationality",
    "vulnerability": "s.vulnerability",
}


def _key(which: str, values: tuple):
    if which == "pyramid":
        return tuple(values)
    value = values[0]
    if which == "day" and isinstance(value, str):  # SQLite returns ISO text
        return dt.date.fromisoformat(value)
    return value


def _rows(source: str, params: dict):
    """(grouping set, key, count) for every breakdown."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(_SQL.format(source=source), bind(params))
            for row in cursor.fetchall():
                which = _which(row[:5])
                day, code, sex, bracket, nationality, vulnerability, n = row[5:]
                values = {"day": (day,), "place": (code,), "pyramid": (sex, bracket), "nationality": (nationality,),
                          "vulnerability": (vulnerability,)}[which]
                yield which, _key(which, values), n
            return
        for which, columns in _SQLITE_SETS.items():
            cursor.execute(
                f"SELECT {columns}, SUM(s.n) FROM ({source}) s JOIN crossings_place pl ON pl.id = s.place_id "  # nosec B608 # noqa: S608 - constants
                f"GROUP BY {columns}", bind(params))
            for row in cursor.fetchall():
                yield which, _key(which, row[:-1]), row[-1]


def _query(date_from: dt.date, date_to: dt.date, place: Place | None) -> dict[str, dict]:
    lo, hi = utc_bounds(date_from, date_to)
    params = {"lo": lo, "hi": hi, "date_from": date_from, "date_to": date_to,
              "place_ids": [place.pk] if place else []}
    source = people_seen(with_vulnerability=True, places=place is not None)
    raw: dict[str, dict] = {name: {} for name in SETS}
    for which, key, n in _rows(source, params):
        raw[which][key] = int(n)
    return raw


def _series(counts: dict, label) -> list[dict]:
    values, _total = suppress_series(counts, settings.SMALL_CELL_K)
    return [{"key": str(key), "label": str(label(key)), "value": value} for key, value in values.items()]


def _over_time(counts: dict, date_from: dt.date, date_to: dt.date) -> list[dict]:
    days = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    full = {day: counts.get(day, 0) for day in days}
    return _series(full, lambda day: day.isoformat())


def _pyramid(counts: dict) -> dict:
    cells = {(s, b): counts.get((s, b), 0) for s in ("f", "m") for b in BRACKETS}
    values, _total = suppress_series(cells, settings.SMALL_CELL_K)
    return {
        "brackets": [str(BRACKET_LABELS[b]) for b in BRACKETS],
        "female": [values[("f", b)] for b in BRACKETS],
        "male": [values[("m", b)] for b in BRACKETS],
    }


def _places(counts: dict) -> tuple[list[dict], list[dict]]:
    places = {p.code: p for p in Place.objects.filter(code__in=list(counts))}
    bars = _series(counts, lambda code: places[code].name if code in places else code)
    points = [
        {"code": bar["key"], "name": bar["label"], "value": bar["value"],
         "lat": float(places[bar["key"]].latitude), "lon": float(places[bar["key"]].longitude)}
        for bar in bars if bar["key"] in places and places[bar["key"]].has_precise_coordinates
    ]
    return bars, points


def compute(date_from: dt.date, date_to: dt.date, place: Place | None = None) -> dict:
    """The dashboard's JSON (labels in the active language)."""
    raw = _query(date_from, date_to, place)
    names = CountryNames()
    vulnerabilities = {k: v for k, v in raw["vulnerability"].items() if k not in (NO_VULNERABILITY, VULNERABILITY_NOT_RECORDED)}
    bars, points = _places(raw["place"])
    total = sum(raw["day"].values())
    return {
        "k": settings.SMALL_CELL_K,
        "total": total if total >= settings.SMALL_CELL_K or total == 0 else None,
        "over_time": _over_time(raw["day"], date_from, date_to),
        "by_place": bars,
        "map": points,
        "pyramid": _pyramid(raw["pyramid"]),
        "by_nationality": _series(raw["nationality"], lambda code: names[code]),
        "vulnerabilities": _series(vulnerabilities, lambda code: VULNERABILITY_LABELS.get(code, code)),
        "labels": {"female": _("Female"), "male": _("Male"), "people": _("People")},
    }


def cached(date_from: dt.date, date_to: dt.date, place: Place | None = None) -> dict:
    """``compute`` through the Django cache; the key carries the data version and language."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = f"reports:dashboard:v{dashboard_version()}:{language}:{date_from}:{date_to}:{place.code if place else '*'}"
    result = cache.get(key)
    if result is None:
        result = compute(date_from, date_to, place)
        cache.set(key, result, settings.REPORT_DASHBOARD_CACHE_SECONDS)
    return result
