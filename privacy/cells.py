"""Spreadsheet-safe cell values (SECURITY.md IN-3): the one function every CSV/XLSX writer uses
(reports, the partner API's HXL statistics, the import error report, find_duplicates).

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a
leading tab or carriage return can smuggle one in. Such text is prefixed with ``'`` so it is
shown as typed. Numbers are left alone (a negative number is data, not a formula).
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run; then ``'`` + text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text
