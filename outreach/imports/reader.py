"""Read a spreadsheet (CSV or XLSX) as a header row and numbered data rows.

Generic on purpose: prospect and backlink imports both read through here, and it
knows nothing of what the columns mean. Everything it refuses raises
``UnreadableFile`` with a sentence meant for the person who uploaded the file.

Hostile files are expected. Nothing in a file is ever evaluated: CSV cells are
text, and XLSX is opened with openpyxl in read-only mode with ``data_only=True``,
so a formula cell gives the value Excel stored when the file was saved (what the
person saw), never the formula, and nothing is computed here. A cell whose
formula was never computed reads as empty. Before openpyxl sees an XLSX, the zip
directory is checked: too many members, a member whose declared size is too
big or whose compression ratio is bomb-like, or a total that would inflate past
a cap is refused. Python's zipfile stops inflating a member at its declared
size (and fails the CRC check if the data goes on), so a member lying about its
size cannot inflate further than the size that was checked. XML is parsed with
defusedxml installed, which openpyxl then uses, so entity expansion is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from campaigns.spreadsheets import unquote_cell

Cell = str | int | float | bool | datetime | date | None

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (",", ";", "\t")
# How much of a CSV is looked at to guess its encoding and delimiter.
SAMPLE_BYTES = 64 * 1024
# Spreadsheets exported by SEO tools have a few dozen columns; a header wider
# than this is a broken or hostile file, and capping it bounds the work per row.
MAX_COLUMNS = 500
# XLSX archive limits. Legitimate sheet XML compresses 5-20x; 200x is a bomb.
MAX_ZIP_MEMBERS = 10_000
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_ABOVE_BYTES = 1024 * 1024
UNCOMPRESSED_PER_UPLOADED_BYTE = 20

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)

csv.field_size_limit(10 * 1024 * 1024)


class UnreadableFile(Exception):
    """The file cannot be read as a table; the message says why, for a person."""


class TooManyRows(UnreadableFile):
    pass


@dataclass
class Table:
    """A header row and an iterator of (row number, cells) for the data rows.

    Row numbers are what a spreadsheet program shows: the header is usually row
    1, so the first data row is row 2. A CSV record with a quoted newline is one
    row, as it is in a spreadsheet. Blank rows are skipped but still counted in
    the numbering. Every data row has exactly ``len(headers)`` cells.
    """

    headers: list[str]
    format: str
    _rows: Iterator[tuple[int, list[Cell]]]
    encoding: str = ""
    delimiter: str = ""
    max_rows: int | None = None
    rows_read: int = field(default=0, init=False)

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        width = len(self.headers)
        for number, cells in self._rows:
            if _is_blank(cells):
                continue
            self.rows_read += 1
            if self.max_rows is not None and self.rows_read > self.max_rows:
                raise TooManyRows(
                    f"The file has more than {self.max_rows:,} data rows, the most one import "
                    "takes. Split it into smaller files."
                )
            if len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            elif len(cells) > width:
                cells = cells[:width]
            yield number, cells


def _is_blank(cells: list[Cell]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def file_format(name: str, head: bytes) -> str:
    """'csv' or 'xlsx', from the content first and the name second."""
    lower = name.lower()
    if head.startswith(_OLE_MAGIC) or lower.endswith(".xls"):
        raise UnreadableFile(
            "This is an old Excel (.xls) file. Open it in a spreadsheet program and save it "
            "as .xlsx or CSV, then upload that."
        )
    if head.startswith(_ZIP_MAGIC):
        if lower.endswith(XLSX_SUFFIXES) or "." not in lower.rsplit("/", 1)[-1]:
            return "xlsx"
        raise UnreadableFile(
            "This is a zip archive, not a spreadsheet. Upload a CSV or an XLSX file."
        )
    if lower.endswith(XLSX_SUFFIXES):
        raise UnreadableFile("This file is named .xlsx but is not an Excel workbook.")
    if lower.endswith(CSV_SUFFIXES) or "." not in lower.rsplit("/", 1)[-1]:
        return "csv"
    raise UnreadableFile(
        "Only CSV and XLSX files can be imported (a file ending in .csv, .tsv, .txt or .xlsx)."
    )


def size_of(handle: IO[bytes]) -> int:
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


@contextmanager
def open_table(
    handle: IO[bytes],
    *,
    name: str,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Iterator[Table]:
    """Open a seekable binary file as a Table. Raises UnreadableFile."""
    size = size_of(handle)
    if max_bytes is not None and size > max_bytes:
        raise UnreadableFile(
            f"The file is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}. "
            "Split it into smaller files."
        )
    if size == 0:
        raise UnreadableFile("The file is empty.")
    head = handle.read(8)
    handle.seek(0)
    kind = file_format(name, head)
    if kind == "xlsx":
        with _open_xlsx(handle, size=size, max_rows=max_rows) as table:
            yield table
    else:
        with _open_csv(handle, max_rows=max_rows) as table:
            yield table


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- CSV -----------------------------------------------------------------------


def detect_encoding(handle: IO[bytes]) -> str:
    """The encoding of a text file: a BOM wins; then UTF-16 without a BOM (NUL
    bytes every other byte); then UTF-8 if the whole file decodes; else cp1252,
    the encoding of "CSV" saved by Excel on Windows in Western Europe and the US."""
    sample = handle.read(SAMPLE_BYTES)
    handle.seek(0)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if sample.count(0) > len(sample) * 0.01:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
            return "utf-16-be"
        # A stray NUL is dropped later; this many means a binary file.
        raise UnreadableFile("This is not a text file: upload a CSV or an XLSX file.")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        handle.seek(0)
    return "utf-8"


def sniff_delimiter(sample: str, complete: bool) -> str:
    """Comma, semicolon or tab: the one that splits the first rows into the most
    columns, consistently. csv.Sniffer guesses wrong on short files and on quoted
    newlines; counting what the csv module itself parses does not."""
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = list(_head_rows(sample, delimiter))
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the sample may end mid-row
        rows = [row for row in rows if any(cell.strip() for cell in row)]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows if len(row) == width) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head_rows(sample: str, delimiter: str, limit: int = 50) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        for index, row in enumerate(reader):
            if index >= limit:
                return
            yield row
    except csv.Error:
        return


@contextmanager
def _open_csv(handle: IO[bytes], *, max_rows: int | None) -> Iterator[Table]:
    encoding = detect_encoding(handle)
    # cp1252 leaves five byte values undefined; a stray one becomes U+FFFD
    # rather than failing the whole file.
    errors = "replace" if encoding == "cp1252" else "strict"
    text = io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline="")
    try:
        yield _csv_table(text, encoding=encoding, max_rows=max_rows)
    finally:
        # A TextIOWrapper closes the file it wraps when it goes; the caller
        # owns the file and may read it again.
        text.detach()


def _csv_table(text: io.TextIOWrapper, *, encoding: str, max_rows: int | None) -> Table:
    try:
        sample = text.read(SAMPLE_BYTES)
        complete = not text.read(1)
        text.seek(0)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"The file is not valid {encoding} text: {exc.reason}.") from exc
    first_line = sample.split("\n", 1)[0].strip()
    delimiter = ""
    skipped = 0
    # Excel writes "sep=;" as a first line to say which delimiter follows.
    if first_line.lower().startswith("sep=") and len(first_line) == 5:
        delimiter = first_line[4]
        text.readline()
        skipped = 1
    else:
        delimiter = sniff_delimiter(sample, complete)
    reader = csv.reader(text, delimiter=delimiter)

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for index, row in enumerate(reader, start=1 + skipped):
                yield index, [_clean_text(cell) for cell in row[:MAX_COLUMNS]]
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"The file stops being valid {encoding} text near row {reader.line_num}."
            ) from exc
        except csv.Error as exc:
            raise UnreadableFile(
                f"The CSV is malformed near row {reader.line_num}: {exc}."
            ) from exc

    rows = numbered()
    headers = _header(rows)
    return Table(
        headers=headers,
        format="csv",
        _rows=rows,
        encoding=encoding.replace("-sig", "") + (" (BOM)" if encoding.endswith("-sig") else ""),
        delimiter=delimiter,
        max_rows=max_rows,
    )


def _clean_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no spreadsheet means one.
    return value.replace("\x00", "") if "\x00" in value else value


def _header(rows: Iterator[tuple[int, list[Cell]]]) -> list[str]:
    """The first non-blank row, as stripped text."""
    for _number, cells in rows:
        if not _is_blank(cells):
            return _header_text(cells)
    raise UnreadableFile("The file has no header row: it is empty or blank.")


def _header_text(cells: list[Cell]) -> list[str]:
    # Our own rejected-rows file neutralizes its header like any cell; the quote
    # comes off again so that file, fixed and uploaded, maps as the original did.
    headers = ["" if cell is None else unquote_cell(str(cell).strip()) for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    return headers


# --- XLSX ----------------------------------------------------------------------


def check_zip(archive: zipfile.ZipFile, *, size: int) -> None:
    """Refuse an archive whose directory promises a zip bomb."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableFile("The workbook has too many parts to be a spreadsheet.")
    budget = max(size * UNCOMPRESSED_PER_UPLOADED_BYTE, 50 * 1024 * 1024)
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_ABOVE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise UnreadableFile(
                f"The workbook part {member.filename!r} would inflate {ratio:,.0f} times: "
                "this looks like a zip bomb, so it was not opened."
            )
    if total > budget:
        raise UnreadableFile(
            f"The workbook would inflate to {_megabytes(total)}, more than this import "
            "reads. Split it into smaller files or save it as CSV."
        )


@contextmanager
def _open_xlsx(handle: IO[bytes], *, size: int, max_rows: int | None) -> Iterator[Table]:
    from openpyxl import load_workbook  # only XLSX imports pay for the import

    try:
        with zipfile.ZipFile(handle) as archive:
            check_zip(archive, size=size)
        handle.seek(0)
        workbook = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"The workbook is damaged or not an XLSX file ({exc}).") from exc
    except Exception as exc:
        # openpyxl raises a zoo of parser errors (lxml, defusedxml, its own
        # descriptors) for a malformed part; any of them means the same to
        # the person who uploaded the file.
        raise UnreadableFile(f"The workbook could not be read ({type(exc).__name__}).") from exc
    try:
        if not workbook.worksheets:
            raise UnreadableFile("The workbook has no sheet.")
        sheet = workbook.worksheets[0]
        # The <dimension> element is the file's own claim and may be wrong or
        # hostile (A1:XFD1048576); widths come from the cells and MAX_COLUMNS.
        sheet.reset_dimensions()
        headers, header_row = _xlsx_header(sheet)
        rows = _xlsx_rows(sheet, first=header_row + 1, width=len(headers))
        yield Table(headers=headers, format="xlsx", _rows=rows, max_rows=max_rows)
    finally:
        workbook.close()


def _xlsx_header(sheet: Any) -> tuple[list[str], int]:
    rows = _xlsx_rows(sheet, first=1, width=MAX_COLUMNS)
    try:
        for number, cells in rows:
            if not _is_blank(cells):
                return _header_text(cells), number
    finally:
        rows.close()
    raise UnreadableFile("The first sheet of the workbook is empty.")


def _xlsx_rows(sheet: Any, *, first: int, width: int) -> Iterator[tuple[int, list[Cell]]]:
    try:
        for number, values in enumerate(
            sheet.iter_rows(min_row=first, max_col=max(width, 1), values_only=True), start=first
        ):
            yield number, [_xlsx_value(value) for value in values]
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(f"The workbook is damaged ({exc}).") from exc
    except Exception as exc:
        raise UnreadableFile(
            f"The workbook could not be read past this point ({type(exc).__name__})."
        ) from exc


def _xlsx_value(value: Any) -> Cell:
    if value is None or isinstance(value, str | bool | int | float | datetime | date):
        return _clean_text(value) if isinstance(value, str) else value
    if isinstance(value, time | timedelta):
        return str(value)
    return str(value)
