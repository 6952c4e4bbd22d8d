"""Aggregates equal hand-computed numbers; small cells and secondary suppression (DP-5)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from reports.builders import build_table
from reports.params import ReportParams
from reports.suppression import lines, suppress, suppress_series
from reports.tables import Column, Table
from tests.reports.conftest import DAY1, DAY2, MX
from transit import services as transit_services


def params(**kwargs) -> ReportParams:
    base = {"date_from": DAY1, "date_to": DAY2, "formats": ("csv",), "language": "en"}
    return ReportParams(**{**base, **kwargs})


def raw(table: Table) -> dict:
    """{row keys: counts} of a table, before suppression."""
    width = len(table.keys)
    return {tuple(str(v) for v in row[:width]): table.measure_values(i) for i, row in enumerate(table.rows)}


def test_daily_flows_match_the_hand_count_in_local_dates(dataset):
    table = build_table("daily_flows", params())
    assert [c.key for c in table.keys] == ["date", "place_code", "place_name"]
    assert raw(table) == {
        ("2026-03-02", "GTMX-R2", "Puesto Dos"): [20, 0, 0, 20],  # 23:30 in Guatemala is the 2nd there
        ("2026-03-02", "MXGT-R1", "Puente Uno"): [15, 9, 0, 24],
        ("2026-03-03", "GTMX-R2", "Puesto Dos"): [0, 1, 0, 1],
        ("2026-03-03", "MXGT-R1", "Puente Uno"): [3, 0, 0, 3],
    }
    assert table.totals == [38, 10, 0, 48]


def test_daily_flows_suppress_small_cells_and_their_partners(dataset):
    table = build_table("daily_flows", params())
    rows = {row[1] + row[0].isoformat(): i for i, row in enumerate(table.rows)}
    small = {(rows["MXGT-R12026-03-03"], 0), (rows["MXGT-R12026-03-03"], 3),
             (rows["GTMX-R22026-03-03"], 1), (rows["GTMX-R22026-03-03"], 3)}
    assert small <= table.suppressed
    # Secondary: the 15 northbound at A on the 2nd would give away the 3; then the 9 southbound.
    assert table.suppressed - small == {(rows["MXGT-R12026-03-02"], 0), (rows["MXGT-R12026-03-02"], 1)}
    assert table.shown(rows["MXGT-R12026-03-03"], 0) == "<5"
    assert table.published(-1, 3) == 48


def test_weekly_summary_uses_the_hxl_example_columns(dataset):
    table = build_table("weekly_summary", params())
    assert [c.hxl for c in table.columns] == [
        "#date", "#loc+code", "#adm1+code", "#country+code+origin", "#affected+f+children+age_0_17",
        "#affected+m+children+age_0_17", "#affected+f+adults+age_18_plus", "#affected+m+adults+age_18_plus",
        "#affected+other", "#affected+total",
    ]
    assert raw(table) == {
        ("2026-03-02", "GTMX-R2", "", "HN"): [0, 1, 20, 0, 0, 21],
        ("2026-03-02", "MXGT-R1", "MX-CHP", "GT"): [2, 0, 9, 16, 0, 27],
    }


def test_monthly_statistics_by_sex_age_nationality_vulnerability(dataset):
    table = build_table("monthly_statistics", params(grouping="all"))
    assert [c.key for c in table.keys] == ["month", "nationality", "vulnerability"]
    measures = [c.key for c in table.measures]
    counts = {key: dict(zip(measures, values, strict=True)) for key, values in raw(table).items()}
    gt_head = counts[("2026-03", "GT", "not_recorded")]
    assert (gt_head["f_0_4"], gt_head["f_18_59"], gt_head["m_18_59"], gt_head["total"]) == (2, 6, 16, 24)
    assert counts[("2026-03", "GT", "none")]["f_18_59"] == 2
    assert counts[("2026-03", "GT", "pregnant_lactating")]["f_18_59"] == 1
    assert counts[("2026-03", "HN", "unaccompanied_child")]["m_5_11"] == 1  # derived by the registry
    assert counts[("2026-03", "HN", "not_recorded")]["f_18_59"] == 20
    assert table.totals[-1] == 48


def test_registrations_and_data_quality(dataset):
    registrations = build_table("registrations", params())
    assert sum(registrations.measure_values(-1)[:-1]) == registrations.totals[-1] == 4
    quality = build_table("data_quality", params())
    assert not quality.has_row_total
    index = [c.key for c in quality.measures].index("missing_purpose")
    assert quality.totals[0] == 4 and quality.totals[index] == 4  # no purpose given in the fixtures


def test_no_identifiers_enter_a_table(dataset):
    for kind in ("daily_flows", "weekly_summary", "monthly_statistics", "registrations", "referrals", "data_quality"):
        table = build_table(kind, params())
        text = repr(table.rows)
        for someone in [*dataset["women"], dataset["boy"]]:
            assert str(someone.pk) not in text and someone.reference not in text
        assert "Canario" not in text and "Zacar" not in text


def test_place_filter_and_period(dataset):
    table = build_table("daily_flows", params(places=("GTMX-R2",), date_from=DAY2))
    assert raw(table) == {("2026-03-03", "GTMX-R2", "Puesto Dos"): [0, 1, 0, 1]}


# --- the suppression rule on its own ---------------------------------------------------------


def _table(rows, k=5) -> Table:
    totals = [sum(col) for col in zip(*[r[1:] for r in rows], strict=True)]
    return Table(title="t", keys=[Column("key", "Key", "#x")],
                 measures=[Column(f"m{i}", f"M{i}", "#y") for i in range(len(rows[0]) - 1)],
                 rows=rows, totals=totals, k=k)


def _unknowns_per_line(table: Table) -> list[int]:
    return [sum(cell in table.suppressed for cell in line) for line in lines(table)]


@pytest.mark.parametrize("rows", [
    [("a", 3, 10, 13), ("b", 8, 9, 17), ("c", 12, 6, 18)],
    [("a", 1, 0, 1), ("b", 0, 7, 7)],
    [("a", 2, 2, 2, 6), ("b", 50, 60, 70, 180), ("c", 5, 6, 7, 18)],
])
def test_every_line_hides_none_or_at_least_two(rows):
    table = suppress(_table(rows))
    assert all(n == 0 or n >= 2 for n in _unknowns_per_line(table))


def test_a_suppressed_value_cannot_be_recomputed_from_the_totals():
    table = suppress(_table([("a", 3, 10, 13), ("b", 8, 9, 17), ("c", 12, 6, 18)]))
    assert (0, 0) in table.suppressed
    # What a reader can do: the row total minus the visible cells of the row ...
    row_rest = table.published(0, 2) - sum(v for m in (0, 1) if (v := table.published(0, m)) is not None)
    hidden_in_row = [m for m in (0, 1) if table.published(0, m) is None]
    # ... leaves a sum of two hidden cells, not the 3.
    assert len(hidden_in_row) == 2 and row_rest == 13
    column_hidden = [i for i in range(3) if table.published(i, 0) is None]
    assert len(column_hidden) >= 2


def test_series_suppression_hides_a_second_value():
    series, total = suppress_series({"a": 2, "b": 40, "c": 7}, 5)
    assert series == {"a": None, "b": 40, "c": None}
    assert total == 49


def test_zero_is_shown_not_hidden():
    table = suppress(_table([("a", 0, 10, 10), ("b", 0, 12, 12)]))
    assert table.suppressed == set()



def test_overstays_count_entries_past_their_card(dataset, recorder):
    """The three Guatemalan women entered on 3 March with a TVR (7 days per entry) and never left:
    on 1 April they are 22 days over, in the 8–30 bucket; counts only, and 3 < k is hidden."""
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=MX), tick=False):  # cards start "today"
        for woman in dataset["women"]:
            transit_services.issue_permit(recorder, woman, kind="tvr")
    table = build_table("overstays", params(date_to=dt.date(2026, 3, 31)))
    assert [c.key for c in table.keys] == ["place_code", "place_name", "nationality", "overstay"]
    assert raw(table) == {("MXGT-R1", "Puente Uno", "GT", "no_exit"): [0, 3, 0, 0, 3]}
    assert table.shown(0, 1) == "<5" and table.shown(-1, 4) == "<5"
