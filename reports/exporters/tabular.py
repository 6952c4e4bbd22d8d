"""CSV, HXL-tagged CSV and XLSX writers. Every cell goes through ``privacy.cells.safe_cell``.

Rows are written in chunks of ``settings.REPORT_CHUNK_ROWS``; after each chunk the writer
calls ``tick()`` (progress, and the test-only pause ``REPORT_CHUNK_DELAY``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from privacy.cells import safe_cell
from reports.exporters.charts import chart_data
from reports.tables import Table, chunked

Tick = Callable[[], None]


def _header(table: Table) -> list[str]:
    return [str(column.label) for column in table.columns]


def _write_csv(table: Table, path: Path, tick: Tick, *, hxl: bool) -> int:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_cell(v) for v in _header(table)])
        if hxl:
            writer.writerow([column.hxl for column in table.columns])
        width = len(table.keys)  # measures are counts or "<k": only key cells can hold text
        for chunk in chunked(table.display_rows(codes=hxl), settings.REPORT_CHUNK_ROWS):
            writer.writerows([[safe_cell(v) for v in row[:width]] + row[width:] for row in chunk])
            tick()
        if not table.rows:
            tick()
        if not hxl:  # HXL consumers sum rows themselves: a totals line would double count
            writer.writerow([safe_cell(v) for v in table.totals_row(_("Total"))])
    return len(table.rows)


def write_csv(table: Table, path: Path, tick: Tick, context: dict) -> int:
    return _write_csv(table, path, tick, hxl=False)


def write_hxl(table: Table, path: Path, tick: Tick, context: dict) -> int:
    return _write_csv(table, path, tick, hxl=True)


def write_xlsx(table: Table, path: Path, tick: Tick, context: dict) -> int:
    """A summary sheet (parameters, notes and a native chart) and the data sheet."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    try:
        bold = workbook.add_format({"bold": True})
        summary = workbook.add_worksheet(_("Summary")[:31])
        data = workbook.add_worksheet(_("Data")[:31])
        chart_sheet = workbook.add_worksheet(_("Chart data")[:31])
        _write_summary(summary, bold, context)
        _write_chart(workbook, summary, chart_sheet, table, len(context["summary"]) + 2)
        count = _write_data(data, bold, table, tick)
    finally:
        workbook.close()
    return count


def _write_summary(sheet, bold, context: dict) -> None:
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 60)
    sheet.write_string(0, 0, safe_cell(str(context["title"])), bold)
    for index, (label, value) in enumerate(context["summary"], start=1):
        sheet.write(index, 0, safe_cell(str(label)), bold)
        sheet.write(index, 1, safe_cell(value if isinstance(value, int) else str(value)))


def _write_chart(workbook, summary, chart_sheet, table: Table, row: int) -> None:
    data = chart_data(table)
    if data is None:
        return
    for index, (label, value) in enumerate(zip(data.labels, data.values, strict=False)):
        chart_sheet.write_string(index, 0, safe_cell(label))
        chart_sheet.write_number(index, 1, value)
    last = len(data.labels) - 1
    chart = workbook.add_chart({"type": "line" if data.kind == "line" else "column"})
    name = chart_sheet.name.replace("'", "''")
    chart.add_series({
        "name": data.title,
        "categories": f"='{name}'!$A$1:$A${last + 1}",
        "values": f"='{name}'!$B$1:$B${last + 1}",
    })
    chart.set_title({"name": data.title})
    chart.set_legend({"none": True})
    summary.insert_chart(row, 0, chart, {"x_scale": 1.6, "y_scale": 1.2})


def _write_data(sheet, bold, table: Table, tick: Tick) -> int:
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, [safe_cell(v) for v in _header(table)], bold)
    line = 1
    if not table.rows:
        tick()
    for chunk in chunked(table.display_rows(), settings.REPORT_CHUNK_ROWS):
        for row in chunk:
            for column, value in enumerate(row):
                if type(value) is int:  # counts: skip write()'s type dispatch
                    sheet.write_number(line, column, value)
                else:
                    sheet.write_string(line, column, safe_cell(value))
            line += 1
        tick()
    sheet.write_row(line, 0, [safe_cell(v) for v in table.totals_row(_("Total"))], bold)
    return len(table.rows)
