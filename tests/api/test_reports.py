"""Report runs through the partner API: scope, validation with field paths, aggregate kinds
only, places of the agreement, idempotency, another agency's runs (404), and a run requested,
built in-process (eager outbox) and downloaded with the expected totals."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from privacy.models import AccessLog
from reports.models import ReportRequest, ReportRun, ReportStatus
from tests.api.conftest import make_agreement
from transit import services as transit_services
from transit.services import EventInput

pytestmark = pytest.mark.django_db
MX = ZoneInfo("America/Mexico_City")
DAY = dt.date(2026, 3, 2)
URL = "/api/v1/report-runs/"
REPORTS = ["reports:read", "places:read"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def flows(official, place_a, place_far):
    """Head counts on DAY: at API-A 13 north and 9 south; at API-FAR (outside the agreements
    below) 20 north, which must never reach a partner's report."""
    for key, place, direction, count in (
        ("a-north", place_a, "north", {"f_18_59": 6, "m_18_59": 7}),
        ("a-south", place_a, "south", {"m_18_59": 9}),
        ("far-north", place_far, "north", {"f_18_59": 20}),
    ):
        transit_services.record_event(official, EventInput(
            place=place, kind="entry" if direction == "north" else "exit", idempotency_key=f"api-rep-{key}",
            occurred_at=dt.datetime(2026, 3, 2, 10, tzinfo=MX), direction=direction,
            head_count={**count, "nationality": "GT"},
        ))


def body(kind="daily_flows", **parameters):
    return {"kind": kind, "parameters": {"date_from": "2026-03-02", "date_to": "2026-03-02", "formats": ["csv"],
                                         "language": "en", **parameters}}


def post(api, data, key="rep-key-1"):
    return api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def attrs(response) -> set[str]:
    return {error["attr"] for error in response.json()["errors"]}


def test_without_reports_scope_every_endpoint_is_403(partner, gov, place_a):
    api = partner(make_agreement(gov, ["stats:read", "places:read"], [place_a]))
    response = post(api, body())
    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert api.get(URL).status_code == 403
    assert ReportRun.objects.count() == 0


def test_a_token_without_the_scope_is_403_even_under_an_agreement_with_it(partner, gov, place_a):
    api = partner(make_agreement(gov, REPORTS, [place_a]), token_scope="places:read")
    assert post(api, body()).status_code == 403


@pytest.mark.parametrize(("data", "attr"), [
    (body(kind="nope"), "kind"),
    (body(date_to="2026-03-01"), "parameters.date_to"),
    (body(date_from="2026-02-30"), "parameters.date_from"),
    (body(formats=[]), "parameters.formats"),
    (body(kind="registrations", formats=["hxl"]), "parameters.formats"),
    (body(colour="red"), "parameters.colour"),
    (body(grouping="planet"), "parameters.grouping"),
    ({**body(), "status": "done"}, "status"),
    ({"kind": "daily_flows"}, "parameters"),
])
def test_bad_kind_or_parameters_are_400_with_the_field_path(partner, gov, place_a, data, attr):
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    response = post(api, data)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert attr in attrs(response)
    assert ReportRun.objects.count() == 0


def test_a_period_longer_than_the_maximum_is_400(partner, gov, place_a, settings):
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    response = post(api, body(date_from="2025-01-01", date_to="2026-03-02"))
    assert response.status_code == 400
    assert attrs(response) == {"parameters.date_to"}


def test_identified_kinds_are_refused(partner, gov, place_a):
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    response = post(api, body(kind="overstays"))
    assert response.status_code == 400
    assert attrs(response) == {"kind"}
    assert ReportRun.objects.count() == 0


def test_a_place_outside_the_agreement_is_400(partner, gov, place_a, place_far):
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    for codes in (["API-FAR"], ["API-A", "API-FAR"], ["NO-SUCH"]):
        response = post(api, body(places=codes), key=f"k-{len(codes)}-{codes[-1]}")
        assert response.status_code == 400
        assert attrs(response) == {"parameters.places"}
    assert ReportRun.objects.count() == 0


def test_an_agreement_without_places_cannot_request(partner, gov):
    api = partner(make_agreement(gov, REPORTS))
    response = post(api, body())
    assert response.status_code == 400
    assert attrs(response) == {"parameters.places"}


def test_the_idempotency_key_is_required(partner, gov, place_a):
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    response = api.post(URL, body(), format="json")
    assert response.status_code == 400
    assert ReportRun.objects.count() == 0


def test_request_progress_and_download_with_the_agreements_totals(
    partner, gov, place_a, flows, django_capture_on_commit_callbacks
):
    agreement = make_agreement(gov, REPORTS, [place_a])
    api = partner(agreement)
    with django_capture_on_commit_callbacks(execute=True):
        created = post(api, body())
    assert created.status_code == 202, created.content
    run_id = created.json()["id"]
    assert created.json()["parameters"]["places"] == ["API-A"]  # none given: the agreement's places

    detail = api.get(f"{URL}{run_id}/")
    assert detail.status_code == 200
    run = detail.json()
    assert run["status"] == ReportStatus.DONE and run["progress"] == 100
    assert [f["format"] for f in run["files"]] == ["csv"]
    url = run["files"][0]["url"]
    assert url.endswith(f"/api/v1/report-runs/{run_id}/files/csv/")

    download = api.get(url)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8"))))
    assert rows[0] == ["Date", "Place code", "Place", "Northbound", "Southbound", "Direction not recorded", "Total"]
    assert rows[-1] == ["Total", "", "", "13", "9", "0", "22"]  # API-FAR's 20 are not in it
    assert not any("API-FAR" in row for row in rows)
    log = AccessLog.objects.get(action="report_download")
    assert log.agreement_ref == agreement.reference

    listed = api.get(URL).json()
    assert [r["id"] for r in listed["results"]] == [run_id]
    assert api.get(f"{URL}{run_id}/files/pdf/").status_code == 404  # not a format of this run


def test_same_key_replays_and_same_parameters_give_the_existing_run(
    partner, gov, place_a, flows, django_capture_on_commit_callbacks
):
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, body(), key="same")
    replay = post(api, body(), key="same")
    assert replay.status_code == first.status_code and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert post(api, body(formats=["hxl"]), key="same").status_code == 422
    again = post(api, body(), key="other")
    assert again.status_code == 200  # the finished run of the same report over the same data
    assert again.json()["id"] == first.json()["id"]
    assert ReportRun.objects.count() == 1
    assert ReportRequest.objects.count() == 2  # the replay made no request


def test_another_agencys_run_is_404(partner, gov, ngo, place_a, flows, django_capture_on_commit_callbacks):
    api_gov = partner(make_agreement(gov, REPORTS, [place_a]))
    api_ngo = partner(make_agreement(ngo, REPORTS, [place_a]))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = post(api_gov, body()).json()["id"]
    assert api_ngo.get(f"{URL}{run_id}/").status_code == 404
    assert api_ngo.get(f"{URL}{run_id}/files/csv/").status_code == 404
    assert api_ngo.get(URL).json()["results"] == []
    assert not AccessLog.objects.filter(action="report_download").exists()
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert api_gov.get(f"{URL}{bad}/").status_code == 404
    # A second client of the same agency sees its agency's run.
    api_gov2 = partner(make_agreement(gov, REPORTS, [place_a]))
    assert api_gov2.get(f"{URL}{run_id}/").status_code == 200


def test_a_run_over_places_of_another_agreement_of_the_same_agency_is_404(partner, gov, place_a, place_b, flows,
                                                                          django_capture_on_commit_callbacks):
    api_a = partner(make_agreement(gov, REPORTS, [place_a]))
    api_b = partner(make_agreement(gov, REPORTS, [place_b]))
    api_ab = partner(make_agreement(gov, REPORTS, [place_a, place_b]))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = post(api_a, body()).json()["id"]
    assert api_b.get(f"{URL}{run_id}/").status_code == 404
    assert api_b.get(f"{URL}{run_id}/files/csv/").status_code == 404
    assert api_b.get(URL).json()["results"] == []
    assert api_ab.get(f"{URL}{run_id}/").status_code == 200  # its agreement covers place A too


def test_staff_runs_are_not_partner_runs(partner, gov, place_a, make_user, flows):
    from reports import services
    from reports.params import ReportParams

    analyst = make_user("analyst", agency=gov)
    run = services.run_now("daily_flows", ReportParams(date_from=DAY, date_to=DAY, formats=("csv",)))
    ReportRequest.objects.create(run=run, user=analyst)
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    assert api.get(f"{URL}{run.pk}/").status_code == 404
    assert api.get(URL).json()["results"] == []


def test_the_daily_request_limit_is_429_and_stores_nothing(partner, gov, place_a, settings):
    settings.REPORTS_PER_USER_PER_DAY = 1
    api = partner(make_agreement(gov, REPORTS, [place_a]))
    assert post(api, body(), key="first").status_code == 202
    response = post(api, body(date_to="2026-03-03"), key="second")
    assert response.status_code == 429
    assert response.json()["type"] == "client_error"
    assert ReportRun.objects.count() == 1
