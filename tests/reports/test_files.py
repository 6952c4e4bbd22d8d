"""The four formats: CSV and HXL (libhxl), XLSX (openpyxl + native chart), PDF (pypdf);
formula injection escaped by the one shared function (IN-3); no identifiers in any file (DP-5)."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import hxl
import openpyxl
import pytest
from pypdf import PdfReader

from privacy.cells import safe_cell
from reports.exporters.tabular import write_csv, write_xlsx
from reports.generation import build_files
from reports.params import ReportParams
from reports.suppression import suppress
from reports.tables import Column, Table
from tests.reports.conftest import DAY1, DAY2

ALL = ("csv", "xlsx", "pdf", "hxl")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def params(kind_formats=ALL, **kwargs) -> ReportParams:
    return ReportParams(**{"date_from": DAY1, "date_to": DAY2, "formats": kind_formats, "language": "en", **kwargs})


@pytest.fixture
def daily_files(dataset, tmp_path):
    return {f.format: f for f in build_files("daily_flows", params(), tmp_path)}


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("Tapachula", "Tapachula"), (-5, -5), (12, 12), (None, ""),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def _hostile_table() -> Table:
    table = Table(title="t", keys=[Column("place_name", "Place", "#loc+name")],
                  measures=[Column("n", "=cmd|' /C calc'!A0", "#affected"), Column("total", "Total", "#affected+total")],
                  rows=[("=HYPERLINK(\"http://evil\")", 7, 7), ("@SUM(1)", 9, 9), ("-1+1", 6, 6)], totals=[22, 22], k=5)
    return suppress(table)


def test_csv_and_xlsx_escape_formulas(tmp_path):
    table = _hostile_table()
    write_csv(table, tmp_path / "t.csv", lambda: None, {})
    rows = list(csv.reader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert rows[0][1].startswith("'=") and rows[1][0].startswith("'=HYPERLINK")
    assert rows[2][0] == "'@SUM(1)" and rows[3][0] == "'-1+1"
    write_xlsx(table, tmp_path / "t.xlsx", lambda: None, {"title": "=evil()", "summary": [("@x", "+y")]})
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    data = book.worksheets[1]
    assert data["A2"].value.startswith("'=HYPERLINK") and data["A3"].value == "'@SUM(1)" and data["B1"].value.startswith("'=")
    assert data["A2"].data_type == "s"  # text, never a formula
    assert book.worksheets[0]["A1"].value == "'=evil()"


def test_csv_has_labels_suppression_and_totals(daily_files):
    rows = list(csv.reader(daily_files["csv"].path.open(encoding="utf-8")))
    assert rows[0] == ["Date", "Place code", "Place", "Northbound", "Southbound", "Direction not recorded", "Total"]
    assert rows[-1] == ["Total", "", "", "38", "10", "0", "48"]
    assert ["2026-03-03", "MXGT-R1", "Puente Uno", "<5", "0", "0", "<5"] in rows
    assert daily_files["csv"].rows == 4


def test_hxl_parses_with_libhxl(daily_files):
    source = hxl.data(str(daily_files["hxl"].path), hxl.InputOptions(allow_local=True))
    assert [str(c.get_display_tag(sort_attributes=False)) for c in source.columns] == [
        "#date", "#loc+code", "#loc+name", "#affected+northbound", "#affected+southbound",
        "#affected+direction_unknown", "#affected+total",
    ]
    rows = list(source)
    assert len(rows) == 4
    assert sorted(r.get("#loc+code") for r in rows) == ["GTMX-R2", "GTMX-R2", "MXGT-R1", "MXGT-R1"]
    assert {r.get("#affected+total") for r in rows} == {"20", "24", "<5"}


def test_xlsx_opens_with_a_summary_and_a_native_chart(daily_files):
    path = daily_files["xlsx"].path
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Data", "Chart data"]
    assert book["Summary"]["A1"].value == "Daily flows per place"
    data = list(book["Data"].iter_rows(values_only=True))
    assert data[0][0] == "Date" and data[-1][-1] == 48 and len(data) == 6
    with zipfile.ZipFile(path) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert charts and b"<c:lineChart>" in archive.read(charts[0])


def test_pdf_has_the_chart_and_the_map(daily_files):
    path = daily_files["pdf"].path
    assert path.read_bytes().startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "Daily flows per place" in text and "MXGT-R1" in text
    assert "People over time" in text  # the matplotlib SVG title, drawn as text
    assert daily_files["pdf"].size > 20_000  # vector chart + outline map, not just a table
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / "reports-daily-flows.pdf")  # for a human look (pdftoppm)


def test_no_file_holds_a_name_or_a_person_id(dataset, tmp_path):
    files = build_files("monthly_statistics", params(), tmp_path)
    assert {f.format for f in files} == set(ALL)
    needles = ["Canario", "Zacar", *(str(p.pk) for p in dataset["women"]), *(p.reference for p in dataset["women"])]
    for built in files:
        if built.format == "pdf":
            content = "".join(page.extract_text() for page in PdfReader(built.path).pages)
        elif built.format == "xlsx":
            with zipfile.ZipFile(built.path) as archive:
                content = "".join(archive.read(n).decode("utf-8", "ignore") for n in archive.namelist())
        else:
            content = built.path.read_text(encoding="utf-8")
        assert not [needle for needle in needles if needle in content], built.format


def test_labels_follow_the_language(dataset, tmp_path):
    """Headers are translated with the run's language (msgids already in locale/es)."""
    spanish = build_files("daily_flows", params(("csv",), language="es"), tmp_path)[0]
    header = spanish.path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[2:4] == ["Lugar", "Hacia el norte"]
