"""Server-side charts for the PDF: matplotlib SVG (text kept as text) and the offline map.

Both read only *published* numbers (``Table.series`` leaves suppressed cells out), so a chart
never shows what the table hides. The map draws ``static/geo/region.geojson`` (the outline the
web map uses) with an equirectangular projection and one circle per place, its area
proportional to the flow.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _

from reports.tables import Table

DATE_KEYS = ("date", "week", "month")
MAP_BOX = (-95.5, 13.0, -86.0, 19.5)  # lon min, lat min, lon max, lat max: Chiapas to Petén
MAP_WIDTH = 640


@dataclass(frozen=True)
class ChartData:
    kind: str  # "line" | "bar"
    title: str
    labels: list[str]
    values: list[int]


def chart_data(table: Table) -> ChartData | None:
    """What to draw for a table: a line over time, else bars over a category or the totals."""
    if not table.rows:
        return None
    if table.keys and table.keys[0].key in DATE_KEYS:
        series = table.series(0)
        return ChartData("line", _("People over time"), [str(k) for k in series], list(series.values()))
    if not table.has_row_total:
        pairs = [(str(m.label), table.published(-1, i)) for i, m in enumerate(table.measures)]
        return ChartData("bar", _("Totals"), [p[0] for p in pairs], [p[1] or 0 for p in pairs])
    series = table.series(len(table.keys) - 1)
    return ChartData("bar", _("Totals by %(what)s") % {"what": str(table.keys[-1].label).lower()},
                     [str(k) for k in series], list(series.values()))


def chart_svg(data: ChartData) -> str:
    """The chart as an SVG document (fonts as text, so the PDF carries searchable labels)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 8, "svg.hashsalt": "frontera"}):
        fig, ax = plt.subplots(figsize=(7.5, 3.0))
        try:
            _draw(ax, data)
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _draw(ax, data: ChartData) -> None:
    positions = list(range(len(data.labels)))
    if data.kind == "line":
        ax.plot(positions, data.values, color="#1f6fb2", marker="o", markersize=2)
    else:
        ax.bar(positions, data.values, color="#1f6fb2")
    step = max(1, len(positions) // 12)
    ax.set_xticks(positions[::step], [label[:18] for label in data.labels[::step]], rotation=30, ha="right")
    ax.set_title(data.title)
    ax.set_ylabel(_("People"))
    ax.spines[["top", "right"]].set_visible(False)


@lru_cache(maxsize=1)
def _outline() -> list[list[tuple[float, float]]]:
    path = settings.BASE_DIR / "static" / "geo" / "region.geojson"
    rings: list[list[tuple[float, float]]] = []
    for feature in json.loads(path.read_text())["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings.extend([tuple(p[:2]) for p in polygon[0]] for polygon in polygons)
    return rings


def _project(lon: float, lat: float) -> tuple[float, float]:
    lon_min, lat_min, lon_max, lat_max = MAP_BOX
    scale = MAP_WIDTH / (lon_max - lon_min)
    return (lon - lon_min) * scale, (lat_max - lat) * scale


def map_svg(points: list[tuple[str, float, float, int]]) -> str:
    """Outline of the region with circles for ``(code, lat, lon, people)``."""
    lon_min, lat_min, lon_max, lat_max = MAP_BOX
    height = (lat_max - lat_min) * MAP_WIDTH / (lon_max - lon_min)
    paths = []
    for ring in _outline():
        coords = " ".join("{:.1f},{:.1f}".format(*_project(lon, lat)) for lon, lat in ring)
        paths.append(f'<polygon points="{coords}" fill="#f4f1e8" stroke="#6b6b6b" stroke-width="0.6"/>')
    biggest = max((p[3] for p in points), default=0) or 1
    circles = []
    for code, lat, lon, people in points:
        x, y = _project(lon, lat)
        radius = 3 + 22 * math.sqrt(people / biggest)
        circles.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#c0392b" fill-opacity="0.6" stroke="#222"/>'
            f'<text x="{x + radius + 2:.1f}" y="{y + 3:.1f}" font-size="9">{escape(code)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {height:.0f}" width="{MAP_WIDTH}" height="{height:.0f}">'
        f'<rect width="100%" height="100%" fill="#dbe9f4"/>{"".join(paths)}{"".join(circles)}</svg>'
    )
