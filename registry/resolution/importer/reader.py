"""Reading an import file safely: size limits, format by magic bytes (never by the name),
strict UTF-8 (Latin-1/cp1252 refused unless chosen explicitly), XLSX through openpyxl's
read-only mode behind a zip-bomb check, and a row/column limit. Rows are streamed."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
MAX_COLUMNS = 40
MAX_ZIP_RATIO = 100
EXPLICIT_ENCODINGS = ("utf-8", "cp1252", "latin-1")


def check_size(size: int) -> None:
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (at most %(mb)d MB)."), code="too_large",
            params={"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
        )


def sniff(path: Path, claimed: str = "") -> str:
    """'csv' or 'xlsx' from the first bytes; a claim (extension) that disagrees is refused."""
    head = path.open("rb").read(8)
    found = "xlsx" if head.startswith(ZIP_MAGIC) else "csv"
    if head.startswith(OLE_MAGIC):
        raise ValidationError(_("Old Excel (.xls) files are not accepted; save the file as .xlsx or CSV."), code="xls")
    if claimed and claimed != found:
        raise ValidationError(
            _("The file says it is %(claimed)s but its content is %(found)s."), code="format_mismatch",
            params={"claimed": claimed.upper(), "found": found.upper()},
        )
    return found


def check_encoding(path: Path, encoding: str = "") -> str:
    """The encoding to read with: UTF-8 (with or without BOM) after a full strict pass, or the
    one the user chose explicitly. Anything else is refused with a clear message."""
    if encoding:
        if encoding not in EXPLICIT_ENCODINGS:
            raise ValidationError(_("Unknown encoding."), code="encoding")
        return "utf-8-sig" if encoding == "utf-8" else encoding
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(
            _("The file is not UTF-8 (it looks like Latin-1 / Windows-1252). Save it as CSV UTF-8, or choose "
              "the encoding explicitly."), code="not_utf8",
        ) from None
    return "utf-8-sig"


def check_zip(path: Path) -> None:
    """Refuse archives that expand far beyond the upload limit (zip bombs)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise ValidationError(_("The XLSX file is damaged."), code="bad_zip") from None
    expanded = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if expanded > settings.IMPORT_MAX_BYTES * 10 or expanded / packed > MAX_ZIP_RATIO:
        raise ValidationError(_("The XLSX file expands to too much data."), code="zip_bomb")


def _cell(value) -> str | dt.date:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value if value.time() != dt.time(0) else value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, dt.date) else str(value).strip()


def _limited(rows: Iterator[list], header_width: int) -> Iterator[tuple[int, list]]:
    for number, row in enumerate(rows, start=2):
        if number - 1 > settings.IMPORT_MAX_ROWS:
            raise ValidationError(
                _("The file has more than %(max)d rows."), code="too_many_rows", params={"max": settings.IMPORT_MAX_ROWS}
            )
        if any(v not in ("", None) for v in row):
            yield number, row[:header_width]


def csv_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[tuple[int, list]]]:
    handle = open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(handle)
    header = next(reader, [])

    def rows():
        try:
            yield from _limited((list(map(str.strip, row)) for row in reader), len(header))
        except csv.Error as exc:
            raise ValidationError(_("The CSV file is malformed: %(error)s"), code="csv", params={"error": str(exc)[:80]}) from None
        finally:
            handle.close()

    return header, rows()


def xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list]]]:
    from openpyxl import load_workbook

    check_zip(path)
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    header = [str(_cell(v)) for v in next(cells, ())]

    def rows():
        try:
            yield from _limited(([_cell(v) for v in row] for row in cells), len(header))
        finally:
            workbook.close()

    return header, rows()


def open_rows(path: Path, file_format: str, encoding: str = "") -> tuple[list[str], Iterator[tuple[int, list]]]:
    """The header and a stream of ``(row number, values)``; row 1 is the header."""
    if file_format == "xlsx":
        return xlsx_rows(path)
    return csv_rows(path, check_encoding(path, encoding))
