"""The PDF: WeasyPrint over a Django template, with the matplotlib chart and the map as SVG.

Long tables are cut at ``settings.REPORT_PDF_MAX_ROWS`` rows (the note says so; CSV and XLSX
carry every row): a PDF is for reading, the spreadsheet for working.
"""

from __future__ import annotations

import base64
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from crossings.models import Place
from reports.exporters.charts import chart_data, chart_svg, map_svg
from reports.tables import Table, chunked


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def map_points(table: Table) -> list[tuple[str, float, float, int]]:
    """Published flow per place, for places with a reliable position."""
    index = next((i for i, c in enumerate(table.keys) if c.key == "place_code"), None)
    if index is None:
        return []
    flows = table.series(index)
    places = Place.objects.filter(
        code__in=list(flows), latitude__isnull=False,
        coord_confidence__in=[Place.CoordConfidence.HIGH, Place.CoordConfidence.MEDIUM],
    ).values_list("code", "latitude", "longitude")
    return [(code, float(lat), float(lon), flows[code]) for code, lat, lon in places]


def write_pdf(table: Table, path: Path, tick, context: dict) -> int:
    from weasyprint import HTML

    shown = list(table.display_rows(limit=settings.REPORT_PDF_MAX_ROWS))
    data = chart_data(table)
    points = map_points(table)
    html = render_to_string("reports/pdf.html", {
        **context, "table": table, "header": [c.label for c in table.columns], "chunks": list(chunked(shown, 40)),
        "cut": len(table.rows) - len(shown), "totals": table.totals_row(context["total_label"]),
        "chart": _data_uri(chart_svg(data)) if data else "", "chart_title": data.title if data else "",
        "map": _data_uri(map_svg(points)) if points else "",
    })
    tick()
    HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(str(path))
    tick()
    return len(table.rows)
