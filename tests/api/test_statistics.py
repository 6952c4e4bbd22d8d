"""Statistics: counted in SQL, small cells suppressed (primary and secondary), HXL CSV, the
access log records the agreement and no person ids."""

from __future__ import annotations

import csv
import io

import pytest

from api.statistics import suppress_line
from privacy.models import AccessLog
from tests.api.conftest import make_agreement
from tests.transit.conftest import record

pytestmark = pytest.mark.django_db


def test_suppress_line_rules():
    assert suppress_line({"a": 10, "b": 3, "c": 0, "total": 13}, 5) == {"b", "a"}
    assert suppress_line({"a": 10, "b": 8, "total": 18}, 5) == set()
    assert suppress_line({"a": 2, "b": 3, "total": 5}, 5) == {"a", "b"}


def test_statistics_json_and_hxl(partner, official, gov, place_a, place_far):
    record(official, place_a, "entry", head_count={"f_18_59": 12, "m_0_4": 2, "m_18_59": 7, "nationality": "GT"})
    record(official, place_far, "entry", head_count={"f_18_59": 40, "nationality": "HN"})
    agreement = make_agreement(gov, ["stats:read"], [place_a])
    api = partner(agreement)
    rows = api.get("/api/v1/statistics/", {"period": "month"}).json()
    assert [r["place"] for r in rows] == ["API-A"]  # the other place is outside the agreement
    counts = rows[0]["counts"]
    assert counts["f_18_59"] == 12 and counts["total"] == 21
    assert counts["m_0_4"] is None and "m_0_4" in rows[0]["suppressed"]  # primary: 2 < k
    assert counts["m_18_59"] is None  # secondary: else 21 - 12 - 7 would give the hidden 2
    log = AccessLog.objects.filter(object_type="api.statistics").get()
    assert log.object_ids == [] and log.agreement_ref == agreement.reference

    text = api.get("/api/v1/statistics/hxl/", {"period": "month"}).content.decode()
    table = list(csv.reader(io.StringIO(text)))
    assert table[1][:4] == ["#date", "#loc+code", "#adm1+code", "#country+code+origin"]
    assert "#affected+f+adults+age_18_59" in table[1] and table[1][-1] == "#affected+total"
    data = dict(zip(table[0], table[2], strict=True))
    assert data["place_code"] == "API-A" and data["count_m_0_4"] == "<5" and data["total"] == "21"


@pytest.mark.parametrize("params", [{"period": "year"}, {"date_from": "2026-02-30"}, {"x": "1"},
                                    {"date_from": "2020-01-01", "date_to": "2026-01-01"}])
def test_statistics_bad_params(params, partner, gov, place_a):
    api = partner(make_agreement(gov, ["stats:read"], [place_a]))
    assert api.get("/api/v1/statistics/", params).status_code == 400
