"""The embedded default (SQLite, tasks in-process): an analyst runs a report on demand from the
page and downloads it; the builders and the dashboard give the hand-counted numbers of the
PostgreSQL tests. Marked ``smoke``: `make test` runs them again on SQLite."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.urls import reverse

from reports.builders import build_table
from reports.models import ReportRun, ReportStatus
from reports.params import ReportParams
from tests.reports.conftest import DAY1, DAY2

FORM = {"kind": "daily_flows", "date_from": "2026-03-02", "date_to": "2026-03-03", "grouping": "place",
        "formats": ["csv", "xlsx", "pdf", "hxl"]}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def params(**kwargs) -> ReportParams:
    return ReportParams(**{"date_from": DAY1, "date_to": DAY2, "formats": ("csv",), "language": "en", **kwargs})


def counts(table) -> dict:
    width = len(table.keys)
    return {tuple(str(v) for v in row[:width]): table.measure_values(i) for i, row in enumerate(table.rows)}


@pytest.mark.smoke
def test_a_report_runs_on_demand_from_the_page_in_process(dataset, analyst, login, settings,
                                                           django_capture_on_commit_callbacks):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # no broker: the outbox runs the task after the commit
    client = login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:request"), {**FORM, "kind": "weekly_summary"})
    assert response.status_code == 302, response.content.decode()[:2000]
    run = ReportRun.objects.get()
    assert (run.status, run.progress, run.error_class) == (ReportStatus.DONE, 100, "")
    assert sorted(run.files.values_list("format", flat=True)) == ["csv", "hxl", "pdf", "xlsx"]
    page = client.get(reverse("reports:list")).content.decode()
    assert f'id="run-{run.pk}"' in page and 'data-status="done"' in page
    response = client.get(reverse("reports:download", args=[run.pk, "csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[-1][-6:] == ["<5", "<5", "29", "16", "0", "48"]  # girls 2, boy 1: hidden; the total is not


@pytest.mark.smoke
def test_flow_builders_give_the_hand_counts(dataset):
    daily = build_table("daily_flows", params())
    assert counts(daily) == {
        ("2026-03-02", "GTMX-R2", "Puesto Dos"): [20, 0, 0, 20],  # 23:30 in Guatemala is the 2nd there
        ("2026-03-02", "MXGT-R1", "Puente Uno"): [15, 9, 0, 24],
        ("2026-03-03", "GTMX-R2", "Puesto Dos"): [0, 1, 0, 1],
        ("2026-03-03", "MXGT-R1", "Puente Uno"): [3, 0, 0, 3],
    }
    assert daily.totals == [38, 10, 0, 48]
    weekly = build_table("weekly_summary", params())
    assert counts(weekly) == {
        ("2026-03-02", "GTMX-R2", "", "HN"): [0, 1, 20, 0, 0, 21],
        ("2026-03-02", "MXGT-R1", "MX-CHP", "GT"): [2, 0, 9, 16, 0, 27],
    }
    monthly = build_table("monthly_statistics", params(grouping="all"))
    measures = [c.key for c in monthly.measures]
    cells = {key: dict(zip(measures, values, strict=True)) for key, values in counts(monthly).items()}
    assert cells[("2026-03", "GT", "pregnant_lactating")]["f_18_59"] == 1
    assert cells[("2026-03", "HN", "unaccompanied_child")]["m_5_11"] == 1
    assert cells[("2026-03", "HN", "not_recorded")]["f_18_59"] == 20
    assert monthly.totals[-1] == 48
    one_place = build_table("daily_flows", params(places=("GTMX-R2",)))
    assert one_place.totals == [20, 1, 0, 21]


@pytest.mark.smoke
def test_registrations_referrals_and_quality_build(dataset):
    registrations = build_table("registrations", params())
    assert sum(registrations.measure_values(-1)[:-1]) == registrations.totals[-1] == 4
    assert build_table("data_quality", params()).totals[0] == 4
    assert build_table("data_quality", params(grouping="all")).totals[0] == 4
    assert build_table("referrals", params()).totals[-1] == 0


@pytest.mark.smoke
def test_dashboard_numbers(dataset, analyst, login):
    data = login(analyst).get(reverse("reports:dashboard-data") + "?date_from=2026-03-02&date_to=2026-03-03").json()
    assert data["total"] == 48
    assert {p["key"]: p["value"] for p in data["by_place"]} == {"GTMX-R2": 21, "MXGT-R1": 27}
    assert [d["value"] for d in data["over_time"]] == [None, None]
    assert data["pyramid"]["female"][3] == 29  # women 18–59: 6 + 20 + 3


@pytest.mark.smoke
def test_overstays_report_says_it_needs_postgresql(make_user, login, db):
    response = login(make_user("supervisor")).post(reverse("reports:request"), {**FORM, "kind": "overstays",
                                                                                "formats": ["csv"]})
    if connection.vendor == "postgresql":
        assert response.status_code == 302
    else:
        assert response.status_code == 400 and "PostgreSQL" in response.content.decode()
        assert not ReportRun.objects.exists()
