"""The shape every report builder returns and every exporter reads.

A ``Table`` has key columns (what a row is about: a date, a place, a nationality...) and
measure columns (counts). When the measures partition the row, a ``total`` column closes each
row; the ``totals`` row closes each measure column. Values are raw counts from the database;
``suppress()`` (reports.suppression) marks the cells that must be shown as "<k".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.utils.functional import Promise

Cell = tuple[int, int]  # (row index, measure index); row index -1 is the totals row


@dataclass(frozen=True)
class Column:
    """One column: a stable key, a translatable label, its HXL hashtag, and for key columns an
    optional code → label mapping used in the human formats (HXL keeps the codes)."""

    key: str
    label: str | Promise
    hxl: str
    labels: Mapping[str, Any] | None = None

    def display(self, value: Any) -> Any:
        if self.labels is None or value is None:
            return value
        return self.labels.get(value, value)


@dataclass
class Table:
    """Rows of ``keys + measures`` and the column totals; ``suppressed`` cells print as "<k"."""

    title: str | Promise
    keys: list[Column]
    measures: list[Column]
    rows: list[tuple]
    totals: list[int]
    k: int
    has_row_total: bool = True
    suppressed: set[Cell] = field(default_factory=set)
    notes: list[str | Promise] = field(default_factory=list)
    _counts: list[list[int]] | None = field(default=None, repr=False, compare=False)

    @property
    def columns(self) -> list[Column]:
        return [*self.keys, *self.measures]

    def measure_values(self, index: int) -> list[int]:
        """The counts of one row (index -1: the totals row)."""
        if index == -1:
            return list(self.totals)
        if self._counts is None or len(self._counts) != len(self.rows):
            width = len(self.keys)
            self._counts = [[int(v or 0) for v in row[width:]] for row in self.rows]
        return self._counts[index]

    def published(self, index: int, measure: int) -> int | None:
        """A count as it may be shown: None when suppressed."""
        if (index, measure) in self.suppressed:
            return None
        return self.measure_values(index)[measure]

    def shown(self, index: int, measure: int) -> Any:
        value = self.published(index, measure)
        return f"<{self.k}" if value is None else value

    def display_rows(self, *, codes: bool = False, limit: int | None = None) -> Iterator[list[Any]]:
        """Rows ready to write: labels (or codes) for keys, "<k" for suppressed counts.

        Labels are looked up once per distinct value (a country name or a translated label costs
        far more than the row), and only rows holding a suppressed cell are checked cell by cell."""
        hidden: dict[int, set[int]] = {}
        for index, measure in self.suppressed:
            hidden.setdefault(index, set()).add(measure)
        memo: list[dict] = [{} for _ in self.keys]
        marker = f"<{self.k}"
        rows = self.rows if limit is None else self.rows[:limit]
        for index, row in enumerate(rows):
            keys = [value if codes else self._label(memo[i], column, value)
                    for i, (column, value) in enumerate(zip(self.keys, row, strict=False))]
            counts = self.measure_values(index)
            cells = hidden.get(index)
            if cells:
                counts = [marker if m in cells else v for m, v in enumerate(counts)]
            yield keys + counts

    @staticmethod
    def _label(memo: dict, column: Column, value: Any) -> Any:
        if column.labels is None or value is None:
            return value
        if value not in memo:
            label = column.display(value)
            memo[value] = str(label) if isinstance(label, Promise) else label
        return memo[value]

    def totals_row(self, label: str | Promise) -> list[Any]:
        blanks = [""] * max(len(self.keys) - 1, 0)
        return [str(label), *blanks, *(self.shown(-1, m) for m in range(len(self.measures)))]

    def series(self, key_index: int, measure: int | None = None) -> dict[Any, int]:
        """Sum of *published* counts per value of one key column (suppressed cells left out, so a
        chart never reveals what the table hides)."""
        measure = len(self.measures) - 1 if measure is None else measure
        sums: dict[Any, int] = {}
        for index, row in enumerate(self.rows):
            value = self.published(index, measure)
            if value is not None:
                label = self.keys[key_index].display(row[key_index])
                sums[label] = sums.get(label, 0) + value
        return sums


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` items from any iterable (rows are streamed, never all held twice)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


ProgressCallback = Callable[[float], None]
