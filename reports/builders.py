"""One builder per report kind: validated parameters in, a suppressed ``Table`` out.

Builders only describe *what* to count (key columns, measures, HXL tags); ``reports.sql`` and
the overstay service do the counting in the database. No builder selects a name, a document
number or a person's id: key columns are dates, place codes and names, nationalities, statuses
and categories.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from reports import sql
from reports.models import ReportKind
from reports.params import ReportParams
from reports.sql import Measure
from reports.suppression import suppress
from reports.tables import Column, Table
from reports.vocabulary import (
    ADULT_BRACKETS,
    BRACKET_HXL,
    BRACKET_LABELS,
    BRACKETS,
    CHILD_BRACKETS,
    OVERSTAY_KIND_LABELS,
    REFERRAL_SERVICE_LABELS,
    REFERRAL_STATUS_LABELS,
    REGISTRATION_STATUS_LABELS,
    SEX_HXL,
    SEX_LABELS,
    SEXES,
    VULNERABILITY_LABELS,
)

STALE_DRAFT_DAYS = 7


class CountryNames(Mapping):
    """ISO code → country name in the active language; blank → "Not recorded"."""

    def __getitem__(self, code):
        return countries.name(code) or code if code else str(_("Not recorded"))

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def get(self, code, default=None):
        return self[code]


PLACE_CODE = (Column("place_code", _("Place code"), "#loc+code"), "pl.code")
PLACE_NAME = (Column("place_name", _("Place"), "#loc+name"), "pl.name")
NATIONALITY = (Column("nationality", _("Nationality"), "#country+code+origin", CountryNames()), "s.nationality")
PLACE_KEYS = ("place_code", "place_name", "adm1_code")


@dataclass(frozen=True)
class FlowSpec:
    title: object
    keys: list[tuple[Column, str]]
    measures: list[tuple[Column, str]]
    with_vulnerability: bool = False
    source: Callable[..., str] | None = None
    row_total: bool = True
    total_hxl: str = "#affected+total"


def _measure(key: str, label, hxl: str, condition: str) -> tuple[Column, str]:
    return Column(key, label, hxl), condition


def _params(params: ReportParams) -> dict:
    lo, hi = sql.utc_bounds(params.date_from, params.date_to)
    today = timezone.localdate()
    return {
        "lo": lo, "hi": hi, "date_from": params.date_from, "date_to": params.date_to,
        "place_ids": params.place_ids(), "reference": min(params.date_to, today),
        "stale_before": timezone.now() - dt.timedelta(days=STALE_DRAFT_DAYS),
    }


def build_flow_table(spec: FlowSpec, params: ReportParams) -> Table:
    """Run one spec through ``sql.aggregate_sql`` and suppress the result."""
    keys = [(c, e) for c, e in spec.keys if params.grouping == "place" or c.key not in PLACE_KEYS]
    source = (spec.source or _people_seen)(spec, places=bool(params.places))
    measures = [Measure(c.key, cond) for c, cond in spec.measures]
    query = sql.aggregate_sql(source, [e for _c, e in keys], measures, row_total=spec.row_total)
    rows, totals = sql.run(query, _params(params), len(keys))
    columns = [c for c, _e in spec.measures]
    if spec.row_total:
        columns.append(Column("total", _("Total"), spec.total_hxl))
    table = Table(
        title=spec.title, keys=[c for c, _e in keys], measures=columns, rows=rows, totals=totals,
        k=settings.SMALL_CELL_K, has_row_total=spec.row_total,
    )
    return suppress(table)


def _people_seen(spec: FlowSpec, *, places: bool) -> str:
    return sql.people_seen(with_vulnerability=spec.with_vulnerability, places=places)


def _daily_flows() -> FlowSpec:
    return FlowSpec(
        title=ReportKind.DAILY_FLOWS.label,
        keys=[(Column("date", _("Date"), "#date"), "s.day"), PLACE_CODE, PLACE_NAME],
        measures=[
            _measure("northbound", _("Northbound"), "#affected+northbound", "s.direction = 'north'"),
            _measure("southbound", _("Southbound"), "#affected+southbound", "s.direction = 'south'"),
            _measure("direction_unknown", _("Direction not recorded"), "#affected+direction_unknown", "s.direction = ''"),
        ],
    )


def _sex_age(sex: str, brackets: tuple[str, ...]) -> str:
    return f"s.sex = '{sex}' AND s.bracket IN ({', '.join(repr(b) for b in brackets)})"


def _weekly_summary() -> FlowSpec:
    other = "s.sex NOT IN ('f', 'm') OR s.bracket = 'unknown'"
    return FlowSpec(
        title=ReportKind.WEEKLY_SUMMARY.label,
        keys=[
            (Column("week", _("Week starting"), "#date"), sql.week_start("s.day")),
            PLACE_CODE, (Column("adm1_code", _("State or department"), "#adm1+code"), "pl.state_code"), NATIONALITY,
        ],
        measures=[
            _measure("f_children", _("Girls (0–17)"), "#affected+f+children+age_0_17", _sex_age("f", CHILD_BRACKETS)),
            _measure("m_children", _("Boys (0–17)"), "#affected+m+children+age_0_17", _sex_age("m", CHILD_BRACKETS)),
            _measure("f_adults", _("Women (18+)"), "#affected+f+adults+age_18_plus", _sex_age("f", ADULT_BRACKETS)),
            _measure("m_adults", _("Men (18+)"), "#affected+m+adults+age_18_plus", _sex_age("m", ADULT_BRACKETS)),
            _measure("other", _("Other sex, or sex or age not recorded"), "#affected+other", other),
        ],
    )


def _monthly_measures() -> list[tuple[Column, str]]:
    cells = [
        _measure(f"{s}_{b}", f"{SEX_LABELS[s]} {BRACKET_LABELS[b]}", f"#affected{SEX_HXL[s]}{BRACKET_HXL[b]}",
                 f"s.sex = '{s}' AND s.bracket = '{b}'")
        for s in SEXES for b in BRACKETS
    ]
    unknown = _measure("unknown", _("Sex or age not recorded"), "#affected+unknown", "s.sex = 'u' OR s.bracket = 'unknown'")
    return [*cells, unknown]


def _monthly_statistics() -> FlowSpec:
    return FlowSpec(
        title=ReportKind.MONTHLY_STATISTICS.label,
        keys=[
            (Column("month", _("Month"), "#date+month"), sql.month("s.day")), PLACE_CODE, PLACE_NAME, NATIONALITY,
            (Column("vulnerability", _("Vulnerability"), "#beneficiary+vulnerability+code", VULNERABILITY_LABELS), "s.vulnerability"),
        ],
        measures=_monthly_measures(),
        with_vulnerability=True,
    )


def _age_bucket(lo: int, hi: int | None) -> str:
    return f"s.age_days >= {lo}" + (f" AND s.age_days <= {hi}" if hi is not None else "")


def _registrations() -> FlowSpec:
    return FlowSpec(
        title=ReportKind.REGISTRATIONS.label,
        keys=[PLACE_CODE, PLACE_NAME, (Column("status", _("Status"), "#status+code", REGISTRATION_STATUS_LABELS), "s.status")],
        measures=[
            _measure("age_0_2", _("0–2 days old"), "#indicator+num+days_0_2", _age_bucket(0, 2)),
            _measure("age_3_7", _("3–7 days old"), "#indicator+num+days_3_7", _age_bucket(3, 7)),
            _measure("age_8_30", _("8–30 days old"), "#indicator+num+days_8_30", _age_bucket(8, 30)),
            _measure("age_31", _("Over 30 days old"), "#indicator+num+days_31_plus", _age_bucket(31, None)),
        ],
        source=lambda spec, places: sql.registrations_source(places=places),
        total_hxl="#indicator+num+total",
    )


def _referrals() -> FlowSpec:
    return FlowSpec(
        title=ReportKind.REFERRALS.label,
        keys=[PLACE_CODE, PLACE_NAME, (Column("service", _("Service"), "#service+code", REFERRAL_SERVICE_LABELS), "s.service")],
        measures=[
            _measure(code, label, f"#indicator+num+{code}", f"s.status = '{code}'")
            for code, label in REFERRAL_STATUS_LABELS.items()
        ],
        source=lambda spec, places: sql.referrals_source(places=places),
        total_hxl="#indicator+num+total",
    )


DATA_QUALITY_FLAGS = {
    "stale_draft": _("Drafts older than 7 days"),
    "needs_correction": _("Returned for correction"),
    "missing_purpose": _("Purpose of travel missing"),
    "missing_nationality": _("Nationality missing"),
    "missing_birth": _("Date or year of birth missing"),
    "sex_not_recorded": _("Sex not recorded"),
    "pending_duplicate": _("Possible duplicate pending review"),
}


def _data_quality() -> FlowSpec:
    measures = [_measure("registrations", _("Registrations"), "#indicator+num+registrations", "TRUE")]
    measures += [_measure(flag, label, f"#indicator+num+{flag}", f"s.{flag}") for flag, label in DATA_QUALITY_FLAGS.items()]
    return FlowSpec(
        title=ReportKind.DATA_QUALITY.label, keys=[PLACE_CODE, PLACE_NAME], measures=measures,
        source=lambda spec, places: sql.data_quality_source(places=places), row_total=False,
    )


OVERSTAY_BUCKETS = (
    ("over_1_7", _("1–7 days over"), 0, 7),
    ("over_8_30", _("8–30 days over"), 7, 30),
    ("over_31_90", _("31–90 days over"), 30, 90),
    ("over_91", _("Over 90 days over"), 90, None),
)


def _overstay_counts() -> dict:
    counts = {}
    for key, _label, lo, hi in OVERSTAY_BUCKETS:
        condition = Q(over_by__gt=dt.timedelta(days=lo))
        if hi is not None:
            condition &= Q(over_by__lte=dt.timedelta(days=hi))
        counts[key] = Count("pk", filter=condition)
    return {**counts, "total": Count("pk")}


def build_overstays(params: ReportParams) -> Table:
    """Entries in the period whose authorised stay was exceeded (transit.overstays), counted by
    place of entry, nationality and situation; no person appears, only counts."""
    from transit.overstays import overstays
    from transit.sql import LocalDate

    at = min(timezone.now(), dt.datetime.combine(params.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))
    rows = overstays(at=at).alias(local_day=LocalDate("occurred_at", "place__time_zone"))
    rows = rows.filter(local_day__range=(params.date_from, params.date_to))
    if params.places:
        rows = rows.filter(place__code__in=params.places)
    key_fields = ["place__code", "place__name", "person__nationality", "overstay"]
    if params.grouping == "all":
        key_fields = key_fields[2:]
    counts = _overstay_counts()
    grouped = rows.order_by().values(*key_fields).annotate(**counts).order_by(*key_fields)
    totals = rows.order_by().aggregate(**counts)
    return suppress(_overstay_table(grouped, totals, key_fields))


def _overstay_table(grouped, totals: dict, key_fields: list[str]) -> Table:
    all_keys = {
        "place__code": PLACE_CODE[0], "place__name": PLACE_NAME[0], "person__nationality": NATIONALITY[0],
        "overstay": Column("overstay", _("Situation"), "#status+code", OVERSTAY_KIND_LABELS),
    }
    measures = [Column(key, label, f"#indicator+num+{key}") for key, label, _lo, _hi in OVERSTAY_BUCKETS]
    measures.append(Column("total", _("Total"), "#indicator+num+total"))
    names = [m.key for m in measures]
    rows = [tuple(row[f] for f in key_fields) + tuple(row[n] for n in names) for row in grouped]
    return Table(
        title=ReportKind.OVERSTAYS.label, keys=[all_keys[f] for f in key_fields], measures=measures, rows=rows,
        totals=[totals[n] or 0 for n in names], k=settings.SMALL_CELL_K,
    )


FLOW_SPECS: dict[str, Callable[[], FlowSpec]] = {
    ReportKind.DAILY_FLOWS: _daily_flows,
    ReportKind.WEEKLY_SUMMARY: _weekly_summary,
    ReportKind.MONTHLY_STATISTICS: _monthly_statistics,
    ReportKind.REGISTRATIONS: _registrations,
    ReportKind.REFERRALS: _referrals,
    ReportKind.DATA_QUALITY: _data_quality,
}


def build_table(kind: str, params: ReportParams) -> Table:
    """The suppressed table of one report."""
    if kind == ReportKind.OVERSTAYS:
        return build_overstays(params)
    return build_flow_table(FLOW_SPECS[kind](), params)
