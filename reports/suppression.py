"""Small-cell suppression with secondary suppression (SECURITY.md DP-5).

**Primary.** Every count ``0 < n < k`` (``settings.SMALL_CELL_K``) is hidden and shown "<k";
totals included. Zeros are shown: "nobody" is not a small group.

**Secondary (the rule).** A table with totals is a set of *lines*: each row with its row total
(when the measures partition the row) and each measure column with its column total (the
totals row), plus the totals row itself with the grand total. If a line holds exactly one
hidden cell, that cell equals the line's total minus the other cells and could be recomputed.
So, until no line has exactly one hidden cell, hide one more cell in every such line: its
smallest non-zero visible cell (ties: the leftmost / topmost). Each step hides one more cell of
a finite table, so the loop ends. Afterwards every line holds either no hidden cell or at least
two, and subtracting the visible cells from a total leaves a sum of two or more unknowns.

This is the classic "at least two per line" rule: simple, auditable and enough for tables
of counts published by the registry. It does not protect against a reader who combines several
different tables; reports therefore never publish the same cells twice at different
groupings within one file.
"""

from __future__ import annotations

from collections.abc import Iterator

from reports.tables import Cell, Table


def suppress(table: Table) -> Table:
    """Mark primary and secondary suppressed cells on ``table`` (in place) and return it.

    Cells are numbered row-major (the totals row last) in flat arrays, and the two lines through
    a cell (its row, its column) are found by arithmetic, so memory stays a few bytes per cell.
    A worklist keeps it linear in the size of the table: only the lines through a newly hidden
    cell can have dropped to "exactly one hidden"."""
    grid = _Grid(table)
    hidden = bytearray(1 if 0 < value < table.k else 0 for value in grid.values)
    count = [sum(hidden[cell] for cell in grid.cells(line)) if grid.exists(line) else 0 for line in range(grid.n_lines)]
    pending = [line for line, n in enumerate(count) if n == 1]
    while pending:
        line = pending.pop()
        if count[line] != 1:
            continue
        extra = _smallest_visible(grid, hidden, line)
        if extra is None:
            continue
        hidden[extra] = 1
        for other in grid.lines_through(extra):
            count[other] += 1
            if count[other] == 1:
                pending.append(other)
    table.suppressed = {grid.cell(index) for index, flag in enumerate(hidden) if flag}
    return table


class _Grid:
    """The measure cells of a table as one flat list; lines 0..rows are the rows (the last one
    the totals row), then one line per measure column."""

    def __init__(self, table: Table) -> None:
        self.width = len(table.measures)
        self.n_rows = len(table.rows) + 1
        self.row_lines = table.has_row_total
        self.values = [v for index in [*range(len(table.rows)), -1] for v in table.measure_values(index)]
        self.n_lines = self.n_rows + self.width

    def exists(self, line: int) -> bool:
        return line >= self.n_rows or self.row_lines

    def cells(self, line: int) -> range:
        if line < self.n_rows:
            return range(line * self.width, (line + 1) * self.width)
        return range(line - self.n_rows, self.n_rows * self.width, self.width)

    def lines_through(self, cell: int) -> list[int]:
        row, measure = divmod(cell, self.width)
        return [row, self.n_rows + measure] if self.row_lines else [self.n_rows + measure]

    def cell(self, index: int) -> Cell:
        row, measure = divmod(index, self.width)
        return (-1 if row == self.n_rows - 1 else row, measure)


def lines(table: Table) -> Iterator[list[Cell]]:
    """Every set of cells linked by one published sum."""
    width = len(table.measures)
    row_indexes = [*range(len(table.rows)), -1]
    if table.has_row_total:
        for index in row_indexes:
            yield [(index, m) for m in range(width)]
    for measure in range(width):
        yield [(index, measure) for index in row_indexes]


def _smallest_visible(grid: _Grid, hidden: bytearray, line: int) -> int | None:
    """The smallest non-zero visible cell of a line (ties: the first)."""
    best: tuple[int, int] | None = None
    for cell in grid.cells(line):
        value = grid.values[cell]
        if value > 0 and not hidden[cell] and (best is None or value < best[0]):
            best = (value, cell)
    return best[1] if best else None


def suppress_series(counts: dict, k: int) -> tuple[dict, int | None]:
    """A one-dimensional breakdown (dashboard): values under k become None, with one more
    hidden when exactly one is, so the total cannot give it away. Returns (series, total)."""
    from reports.tables import Column

    keys = list(counts)
    table = Table(
        title="", keys=[Column("key", "", "")], measures=[Column("n", "", "")],
        rows=[(key, counts[key]) for key in keys], totals=[sum(counts.values())], k=k, has_row_total=False,
    )
    suppress(table)
    series = {key: table.published(i, 0) for i, key in enumerate(keys)}
    return series, table.published(-1, 0)
