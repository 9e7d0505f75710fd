"""Spreadsheets the app writes and reads: the one cell neutralizer, shared by
every export (CSV and XLSX) and by the imports that read those exports back,
and the table writers every export uses.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula, and tab or carriage return can smuggle one past a naive check; a
prospect's notes or a publisher's anchor text would then run on the
manager's machine when the client report is opened (CSV injection). A leading
single quote makes Excel, LibreOffice and Google Sheets show the text as text.
In XLSX every cell is also written as a string or a number, never a formula.
Imports strip that quote again (``unquote_cell``), so an export edited and
re-imported round-trips.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: str) -> str:
    """``value`` as a spreadsheet will show it but never evaluate it."""
    if value.startswith(FORMULA_TRIGGERS):
        return f"'{value}"
    return value


def unquote_cell(value: str) -> str:
    """Undo ``neutralize_cell`` on a value read back from a spreadsheet, so an
    export edited and re-imported round-trips."""
    if len(value) > 1 and value[0] == "'" and value.startswith(FORMULA_TRIGGERS, 1):
        return value[1:]
    return value


# --- Export tables -------------------------------------------------------------
#
# Every export (prospects, backlinks) is one table of columns defined once, in the
# app that owns the model (outreach/exports.py, links/exports.py), and written by
# the two writers below, so a CSV and an XLSX of the same filters have the same
# header and the same cells. Rows come from ``.iterator(chunk_size=CHUNK_SIZE)``
# (prefetches done per chunk) and go straight to the output: memory stays bounded.

# Read at call time (``spreadsheets.CHUNK_SIZE``) so a test can shrink it.
CHUNK_SIZE = 1000

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def table_rows(columns: Sequence[Column], objects: Iterable[Any]) -> Iterator[list[Any]]:
    """The header, then one list of typed values per object."""
    yield [column.header for column in columns]
    for obj in objects:
        yield [column.value(obj) for column in columns]


def cell_text(value: object) -> str:
    """One cell as text, the same in CSV and XLSX: ``yes``/``no`` for booleans,
    ISO dates, local ISO datetimes with their offset."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """One CSV line at a time, every cell neutralized, for a streaming response."""
    writer = csv.writer(_Echo())
    # A byte-order mark, or Excel reads UTF-8 as Windows-1252.
    prefix = "\ufeff"
    for row in rows:
        yield prefix + writer.writerow([neutralize_cell(cell_text(value)) for value in row])
        prefix = ""


def write_xlsx(rows: Iterable[Sequence[Any]], stream: IO[bytes], *, title: str) -> None:
    """Rows as a one-sheet workbook. Numbers stay numbers; everything else is the
    CSV's text, neutralized, as a string cell; nothing becomes a formula.
    openpyxl's write-only workbook spools rows to a temporary file, not memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])

    def cell(value: Any) -> WriteOnlyCell:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        text = ILLEGAL_CHARACTERS_RE.sub("", neutralize_cell(cell_text(value)))
        out = WriteOnlyCell(sheet, value=None)
        if not text:
            return out
        # Assigned directly: openpyxl's setter would turn "=..." into a formula.
        out._value = text
        out.data_type = "s"
        return out

    for row in rows:
        sheet.append([cell(value) for value in row])
    workbook.save(stream)


def export_filename(campaign_slug: str, what: str, extension: str) -> str:
    return f"{campaign_slug}-{what}-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_response(rows: Iterable[Sequence[Any]], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(rows: Iterable[Sequence[Any]], *, filename: str, title: str) -> FileResponse:
    # Spooled: a small export stays in memory, a big one goes to a temporary
    # file; a zip cannot be streamed before its directory is written anyway.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(rows, spool, title=title)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
