"""Pages by role: analysts and supervisors run and download; registrars cannot; overstays only
supervisors; other people's runs are 404; downloads are access-logged; bad input stays on the form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from privacy.models import AccessLog
from reports import services
from reports.models import ReportRun
from reports.params import ReportParams
from tests.reports.conftest import DAY1, DAY2, MX, record

FORM = {"kind": "daily_flows", "date_from": "2026-03-02", "date_to": "2026-03-03", "grouping": "place", "formats": ["csv", "pdf"]}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english_pages(settings):
    """The pages answer in English (no Accept-Language: LANGUAGE_CODE), so messages are checked
    against their source text; reports keep the requester's own language."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def done_run(dataset, analyst, django_capture_on_commit_callbacks):
    params = ReportParams(date_from=DAY1, date_to=DAY2, formats=("csv", "xlsx"), language="en")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_report(analyst, "daily_flows", params)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("supervisor", 200), ("registrar", 403), ("auditor", 403)])
def test_report_pages_by_role(make_user, login, role, status):
    client = login(make_user(role))
    for name in ("reports:list", "reports:request", "reports:dashboard", "reports:dashboard-data"):
        assert client.get(reverse(name)).status_code == status, name


def test_analyst_requests_and_sees_progress_then_downloads(dataset, analyst, login, django_capture_on_commit_callbacks):
    client = login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:request"), FORM)
    assert response.status_code == 302
    run = ReportRun.objects.get()
    page = client.get(reverse("reports:list")).content.decode()
    assert f'id="run-{run.pk}"' in page and 'data-status="done"' in page
    before = AccessLog.objects.count()
    response = client.get(reverse("reports:download", args=[run.pk, "csv"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    with translation.override(analyst.preferred_language):  # labels in the requester's language
        assert content.startswith(f"{gettext('Date')},{gettext('Place code')},")
    assert content.rstrip().endswith(",38,10,0,48")
    log = AccessLog.objects.order_by("-id").first()
    assert AccessLog.objects.count() == before + 1
    assert log.action == "report_download" and log.object_ids == [] and log.user_id == analyst.pk


def test_a_queued_run_row_polls_with_htmx(analyst, login, db):
    run = ReportRun.objects.create(kind="daily_flows", data_version="v", fingerprint="c" * 64, requested_by=analyst,
                                   parameters={"date_from": "2026-03-02", "date_to": "2026-03-03"}, progress=40, status="running")
    run.requests.create(user=analyst)
    row = login(analyst).get(reverse("reports:status", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in row and 'value="40"' in row


def test_other_peoples_runs_are_404(done_run, make_user, login):
    other = login(make_user("analyst"))
    assert other.get(reverse("reports:download", args=[done_run.pk, "csv"])).status_code == 404
    assert other.get(reverse("reports:detail", args=[done_run.pk])).status_code == 404
    owner = login(done_run.requested_by)
    assert owner.get(reverse("reports:download", args=[done_run.pk, "pdf"])).status_code == 404  # not produced
    registrar = login(make_user("registrar"))
    assert registrar.get(reverse("reports:download", args=[done_run.pk, "csv"])).status_code == 403


def test_overstays_only_for_supervisors(make_user, login, db):
    form = {**FORM, "kind": "overstays", "formats": ["csv"]}
    analyst_response = login(make_user("analyst")).post(reverse("reports:request"), form)
    assert analyst_response.status_code == 400 and "You may not run this report" in analyst_response.content.decode()
    assert not ReportRun.objects.exists()
    assert login(make_user("supervisor")).post(reverse("reports:request"), form).status_code == 302
    assert ReportRun.objects.get().kind == "overstays"


@pytest.mark.parametrize(("changes", "message"), [
    ({"date_from": "2026-03-09", "date_to": "2026-03-01"}, "before its start"),
    ({"date_from": "2024-01-01", "date_to": "2026-03-01"}, "the maximum is 400 days"),
    ({"places": ["NOPE-1"]}, "NOPE-1"),
    ({"kind": "registrations", "formats": ["hxl"]}, "not offered"),
    ({"formats": []}, "required"),
])
def test_bad_input_is_a_form_error_and_nothing_is_queued(analyst, login, db, changes, message):
    response = login(analyst).post(reverse("reports:request"), {**FORM, **changes})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReportRun.objects.exists()


def test_request_limit_shows_on_the_form(dataset, analyst, login, settings):
    settings.REPORTS_PER_USER_PER_DAY = 1
    client = login(analyst)
    assert client.post(reverse("reports:request"), FORM).status_code == 302
    response = client.post(reverse("reports:request"), {**FORM, "formats": ["csv"]})
    assert response.status_code == 400 and "daily limit" in response.content.decode()
    assert ReportRun.objects.count() == 1


def test_dashboard_json_is_suppressed_and_cached(dataset, analyst, login, recorder, place_a,
                                                django_capture_on_commit_callbacks):
    client = login(analyst)
    url = reverse("reports:dashboard-data") + "?date_from=2026-03-02&date_to=2026-03-03"
    data = client.get(url).json()
    assert data["total"] == 48
    assert {p["key"]: p["value"] for p in data["by_place"]} == {"GTMX-R2": 21, "MXGT-R1": 27}
    # 4 people on the 3rd are hidden; the 44 on the 2nd must go too, or 48 - 44 would reveal them.
    assert [d["value"] for d in data["over_time"]] == [None, None]
    assert data["pyramid"]["female"][0] is None  # 2 girls 0–4
    assert {p["code"] for p in data["map"]} == {"GTMX-R2", "MXGT-R1"}
    assert "Canario" not in str(data)
    with django_capture_on_commit_callbacks() as callbacks:
        record(recorder, place_a, at=dt.datetime(2026, 3, 3, 16, tzinfo=MX), direction="north", head_count={"m_18_59": 30})
    assert client.get(url).json()["total"] == 48  # still the cached aggregates (not committed yet)
    for callback in callbacks:
        callback()  # the commit: the signal bumps the dashboard version
    fresh = client.get(url).json()
    assert fresh["total"] == 78 and [d["value"] for d in fresh["over_time"]] == [44, 34]


def test_dashboard_json_rejects_a_reversed_period(analyst, login, db):
    response = login(analyst).get(reverse("reports:dashboard-data") + "?date_from=2026-03-09&date_to=2026-03-01")
    assert response.status_code == 400 and "date_to" in response.json()["errors"]


@pytest.mark.parametrize(("role", "shown"), [("analyst", True), ("supervisor", True), ("registrar", False), ("auditor", False)])
def test_main_navigation_links_the_reports_for_roles_that_run_them(make_user, login, role, shown):
    body = login(make_user(role)).get(reverse("crossings:list")).content.decode()
    assert (f'href="{reverse("reports:dashboard")}"' in body) is shown
