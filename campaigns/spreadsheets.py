"""Spreadsheets the app writes and reads: one list of formula triggers and the
cell neutralizer built on it (in Python, and in SQL for PostgreSQL's exports),
shared by every export (CSV and XLSX) and by the imports that read them back,
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
import io
import string
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import IO, Any

from django.db import connection
from django.db.models import Expression, F, QuerySet, TextField, Value, Window
from django.db.models.functions import RowNumber
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

# Column kinds: how a value becomes its cell text (``cell_text``), in SQL.
TEXT, NUMBER, BOOLEAN, DATE, DATETIME = "text", "number", "boolean", "date", "datetime"

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One export column: its header, its value from a model instance, and
    the same value as a database expression (a field path or an expression
    over the exported model) with its kind, for the PostgreSQL fast path
    (``sql_rows``, ``sql_csv_lines``), which must give exactly the same cell."""

    header: str
    value: Callable[[Any], Any]
    expression: Any = None
    kind: str = TEXT


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

    openpyxl writes the workbook's frame (styles, workbook, relations); the
    sheet's XML is written here, row by row into the zip, in exactly the form
    openpyxl's write-only sheet has (inline strings, empty cells left out,
    ``&#13;`` for CR, ``xml:space="preserve"`` around outer spaces): a
    WriteOnlyCell and an lxml element per cell cost ~30 µs, three quarters of
    a 12,500-row export."""
    from openpyxl import Workbook

    frame = io.BytesIO()
    workbook = Workbook(write_only=True)
    workbook.create_sheet(title=title[:31])
    workbook.save(frame)
    with (
        zipfile.ZipFile(frame) as empty,
        zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
    ):
        for info in empty.infolist():
            if info.filename != _SHEET_PART:
                archive.writestr(info, empty.read(info))
                continue
            head, tail = _around_sheet_data(empty.read(info).decode("utf-8"))
            with archive.open(_SHEET_PART, "w", force_zip64=True) as sheet:
                sheet.write(f"{head}<sheetData>".encode())
                chunk: list[str] = []
                for number, row in enumerate(rows, start=1):
                    chunk.append(_xlsx_row(number, row))
                    if len(chunk) >= CHUNK_SIZE:
                        sheet.write("".join(chunk).encode())
                        chunk = []
                sheet.write(("".join(chunk) + f"</sheetData>{tail}").encode())


_SHEET_PART = "xl/worksheets/sheet1.xml"


def _around_sheet_data(xml: str) -> tuple[str, str]:
    """The empty sheet's XML before and after its (empty) sheetData."""
    for marker in ("<sheetData></sheetData>", "<sheetData/>"):
        head, found, tail = xml.partition(marker)
        if found:
            return head, tail
    raise ValueError("openpyxl wrote an empty sheet without sheetData")


@cache
def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _xlsx_row(number: int, row: Sequence[Any]) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    parts = [f'<row r="{number}">']
    for index, value in enumerate(row):
        if value is None:
            continue
        ref = f"{_column_letter(index)}{number}"
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            parts.append(f'<c r="{ref}" t="n"><v>{value}</v></c>')
            continue
        text = ILLEGAL_CHARACTERS_RE.sub("", neutralize_cell(cell_text(value)))
        if not text:
            continue
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and stripped != text else ""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if "\r" in text:
            text = text.replace("\r", "&#13;")
        parts.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
    parts.append("</row>")
    return "".join(parts)


def export_filename(campaign_slug: str, what: str, extension: str) -> str:
    return f"{campaign_slug}-{what}-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_response(lines: Iterable[str], *, filename: str) -> StreamingHttpResponse:
    """``lines`` (``csv_lines`` or ``sql_csv_lines``) as a download."""
    response = StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE)
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


# --- The PostgreSQL fast path ----------------------------------------------------
#
# A model instance per row and a Python call per cell cost ~0.3 ms a row: 12,500
# prospects took seconds. On PostgreSQL the columns' ``expression``s are read
# as plain tuples through a server-side cursor, each cell already turned into
# the text ``cell_text`` gives (dates, local times with their offset, yes/no,
# joined tags); for CSV the database also neutralizes and quotes every cell and
# sends whole lines, so Python only streams strings. SQLite (``make run``) keeps
# the instance path. tests/outreach/test_golden_import_export.py holds both to
# the same bytes.

# ``neutralize_cell`` and csv.writer's minimal quoting, per kind of column, in
# SQL, from the same FORMULA_TRIGGERS. ascii() reads the first character's code
# without copying the text; strpos is a plain byte search, several times cheaper
# per cell than a regular expression. Dates, times and yes/no never start with
# a trigger nor hold a delimiter; a number only may start with "-".
_TRIGGER_CODES = ", ".join(str(ord(trigger)) for trigger in FORMULA_TRIGGERS)
_NEUTRAL = f"CASE WHEN ascii({{c}}) IN ({_TRIGGER_CODES}) THEN '''' || {{c}} ELSE {{c}} END"
_NEEDS_QUOTES = (
    "strpos({c}, ',') > 0 OR strpos({c}, '\"') > 0 OR strpos({c}, E'\\n') > 0 "
    "OR strpos({c}, E'\\r') > 0"
)
_CSV_CELL = {
    TEXT: (
        f"CASE WHEN {_NEEDS_QUOTES} THEN '\"' || replace({_NEUTRAL}, '\"', '\"\"') || '\"' "
        f"ELSE {_NEUTRAL} END"
    ),
    NUMBER: f"CASE WHEN ascii({{c}}) = {ord('-')} THEN '''' || {{c}} ELSE {{c}} END",
    DATE: "{c}",
    DATETIME: "{c}",
    BOOLEAN: "{c}",
}


class _Sql(Expression):
    """A text expression written as a template over its arguments ({0}, {1}…),
    each compiled by Django (so field paths join and alias as usual)."""

    def __init__(self, template: str, *args: Any) -> None:
        super().__init__(output_field=TextField())
        self.template = template
        self.args = [F(a) if isinstance(a, str) else a for a in args]

    def get_source_expressions(self) -> list[Any]:
        return self.args

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.args = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        compiled = [compiler.compile(arg) for arg in self.args]
        out: list[str] = []
        params: list[Any] = []
        for literal, name, _spec, _conversion in string.Formatter().parse(self.template):
            out.append(literal.replace("%", "%%"))
            if name is not None:
                sql, arg_params = compiled[int(name)]
                out.append(f"({sql})")
                params.extend(arg_params)
        return "".join(out), tuple(params)


def _cell_text_sql(column: Column, zone: str) -> Expression:
    """``cell_text`` of the column's value, in SQL."""
    expression = column.expression
    if column.kind == BOOLEAN:
        return _Sql("CASE WHEN {0} THEN 'yes' WHEN NOT {0} THEN 'no' ELSE '' END", expression)
    if column.kind == DATE:
        return _Sql("COALESCE(to_char({0}, 'YYYY-MM-DD'), '')", expression)
    if column.kind == DATETIME:
        # isoformat(timespec="seconds") of the local time: wall clock, then the
        # offset as +HH:MM (what Python prints, also for UTC).
        local = "({0} AT TIME ZONE {1})"
        offset = f"({local} - ({{0}} AT TIME ZONE 'UTC'))"
        return _Sql(
            f"COALESCE(to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN {offset} < "
            f"interval '0' THEN '-' || to_char(-{offset}, 'HH24:MI') "
            f"ELSE '+' || to_char({offset}, 'HH24:MI') END, '')",
            expression,
            Value(zone),
        )
    return _Sql("COALESCE({0}::text, '')", expression)


def _ordered_values(queryset: QuerySet[Any], cells: dict[str, Expression]) -> tuple[str, list[Any]]:
    """The queryset's rows as ``cells`` plus ``_n``, their place in its order,
    as SQL: the ordering becomes a row number so an outer query can keep it."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    numbered = queryset.annotate(
        **cells, _n=Window(RowNumber(), order_by=ordering or None)
    ).order_by()
    sql, params = numbered.values_list(*cells, "_n").query.sql_with_params()
    return sql, list(params)


def _stream(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield from rows


def uses_sql_path() -> bool:
    return connection.vendor == "postgresql"


def sql_rows(queryset: QuerySet[Any], columns: Sequence[Column]) -> Iterator[list[Any]]:
    """``table_rows`` on PostgreSQL: the header, then one list per row, numbers
    as numbers and every other cell already as its ``cell_text``."""
    zone = timezone.get_current_timezone_name()
    cells = {
        f"c{i}": _as_expression(column.expression)
        if column.kind == NUMBER
        else _cell_text_sql(column, zone)
        for i, column in enumerate(columns)
    }
    sql, params = _ordered_values(queryset, cells)
    yield [column.header for column in columns]
    names = ", ".join(f"s.c{i}" for i in range(len(columns)))
    for row in _stream(f"SELECT {names} FROM ({sql}) s ORDER BY s._n", params):  # noqa: S608
        yield list(row)


def _as_expression(expression: Any) -> Any:
    return F(expression) if isinstance(expression, str) else expression


def sql_csv_lines(queryset: QuerySet[Any], columns: Sequence[Column]) -> Iterator[str]:
    """``csv_lines(table_rows(...))`` on PostgreSQL, byte for byte: the header
    from Python, then each line neutralized, quoted and joined by the database."""
    zone = timezone.get_current_timezone_name()
    cells = {f"c{i}": _cell_text_sql(column, zone) for i, column in enumerate(columns)}
    sql, params = _ordered_values(queryset, cells)
    cells_sql = ", ".join(
        _CSV_CELL[column.kind].format(c=f"s.c{i}") for i, column in enumerate(columns)
    )
    lines = (
        f"SELECT concat_ws(',', {cells_sql}) || E'\\r\\n' "  # noqa: S608
        f"FROM ({sql}) s ORDER BY s._n"
    )
    header = csv_lines([[column.header for column in columns]])
    yield from header
    for (line,) in _stream(lines, params):
        yield line
