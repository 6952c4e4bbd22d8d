"""The import report: one CSV line per row that was not imported (row number, column, message,
offending value) or that was linked to a possible duplicate. Formula-injection safe (IN-3)."""

from __future__ import annotations

import csv
from pathlib import Path

from privacy.cells import safe_cell

HEADER = ("row", "outcome", "column", "message", "value")
MAX_VALUE = 100


class Report:
    """Appends lines to the report file (created with its header on first use)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.lines: list[tuple] = []

    def add(self, row: int, outcome: str, column: str = "", message: str = "", value="") -> None:
        self.lines.append((row, outcome, column, message, str(value or "")[:MAX_VALUE]))

    def flush(self) -> list[tuple]:
        """Write pending lines; returns them (for previews)."""
        pending, self.lines = self.lines, []
        if self.path is None or not pending:
            return pending
        new = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(HEADER)
            writer.writerows([tuple(safe_cell(c) for c in line) for line in pending])
        return pending
