"""Formula injection in CSV/XLSX exports (SECURITY.md IN-3, ASVS 1.2.10; corpus row 13).

``privacy.cells.safe_cell`` is the one defence: text a spreadsheet would evaluate gets a leading
``'``. These tests prove the helper against the corpus, and walk the source tree so that every
module that *writes* CSV or XLSX is known: it either imports ``safe_cell`` from ``privacy.cells``
or is listed in ``KNOWN_GAPS`` with what must change. A new exporter that forgets the helper
fails here; fixing a gap without removing it from the list fails too (the list stays honest).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import Workbook, load_workbook

from privacy.cells import safe_cell

HOSTILE = [
    '=HYPERLINK("http://x","ver")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]
HARMLESS = ["María de la Cruz", "O'Hara", "B'alam", "1-2", "Ñandú", ""]

# Writers outside reports/ that do not use privacy.cells.safe_cell yet (issue 8 report to the lead).
KNOWN_GAPS: dict[str, str] = {}
WRITES = re.compile(
    r"csv\.writer\(|csv\.DictWriter\(|xlsxwriter|openpyxl\.Workbook\(|from openpyxl import .*Workbook\b"
)
USES_HELPER = re.compile(r"from privacy\.cells import .*\bsafe_cell\b|from privacy import cells\b")
SOURCE_DIRS = [
    "accounts",
    "api",
    "config",
    "crossings",
    "privacy",
    "registry",
    "reports",
    "transit",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_is_prefixed_with_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_ordinary_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers_and_none_is_empty():
    assert safe_cell(-5) == -5 and safe_cell(2.5) == 2.5 and safe_cell(0) == 0
    assert safe_cell(None) == ""


def test_csv_and_xlsx_cells_open_as_text(tmp_path):
    """What a spreadsheet gets: the CSV field and the XLSX cell are text starting with '."""
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(v) for v in HOSTILE])
    assert all(cell.startswith("'") for cell in next(csv.reader(io.StringIO(out.getvalue()))))
    book = Workbook()
    book.active.append([safe_cell(v) for v in HOSTILE])
    book.save(tmp_path / "x.xlsx")
    row = next(load_workbook(tmp_path / "x.xlsx").active.iter_rows())
    assert all(cell.data_type == "s" and str(cell.value).startswith("'") for cell in row)


def exporters() -> dict[str, bool]:
    """``{path: uses the shared helper}`` for every project module that writes CSV or XLSX."""
    root = Path(settings.BASE_DIR)
    found = {}
    for directory in SOURCE_DIRS:
        for path in (root / directory).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if WRITES.search(text):
                found[str(path.relative_to(root))] = bool(USES_HELPER.search(text))
    return found


def test_every_csv_or_xlsx_writer_uses_the_shared_helper():
    found = exporters()
    assert "reports/exporters/tabular.py" in found  # the walker sees the known exporter
    missing = {path for path, uses in found.items() if not uses}
    assert missing == set(KNOWN_GAPS), (
        "CSV/XLSX writers must escape every cell with privacy.cells.safe_cell; "
        f"new: {sorted(missing - set(KNOWN_GAPS))}, fixed (remove from KNOWN_GAPS): {sorted(set(KNOWN_GAPS) - missing)}"
    )
