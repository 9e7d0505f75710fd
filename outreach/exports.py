"""Prospects out to CSV and XLSX, plus the spreadsheet writing both exports use
(links/exports.py writes backlinks through the same functions).

Memory stays bounded: rows come from ``.iterator(chunk_size=...)`` (with the
prefetches done per chunk) and go straight to the output; openpyxl's write-only
workbook spools rows to a temporary file, not to memory.

Formula injection: a spreadsheet program runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and tab or CR, which some strip first) as a formula. A
prospect's notes come from outside (imports, replies), so every text cell that
starts so gets a leading single quote, the spreadsheet convention for "this is
text". In XLSX every cell is also written as a string or a number, never a
formula. Imports strip that quote again (see ``campaigns.spreadsheets.unquote_cell``), so an export
edited and re-imported round-trips.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from campaigns.spreadsheets import neutralize_cell
from outreach.models import Prospect, Tag

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


PROSPECT_COLUMNS: tuple[Column, ...] = (
    Column("URL", lambda p: p.url),
    Column("Domain", lambda p: p.domain),
    Column("Type", lambda p: p.get_kind_display()),
    Column("Status", lambda p: p.get_status_display()),
    Column("Name", lambda p: p.contact_name),
    Column("Email", lambda p: p.contact_email),
    Column("Domain rating", lambda p: p.domain_rating),
    Column("Niche", lambda p: p.niche),
    Column("Tags", lambda p: ", ".join(tag.name for tag in p.tags.all())),
    Column("Assignee", lambda p: p.assignee.get_username() if p.assignee else ""),
    Column("Next follow-up", lambda p: p.next_follow_up),
    Column("Outlet", lambda p: p.outlet),
    Column("Deadline", lambda p: _local(p.deadline)),
    Column("Dead URL", lambda p: p.dead_url),
    Column("Fee", lambda p: p.fee),
    Column("Notes", lambda p: p.notes),
    Column("Created", lambda p: _local(p.created_at)),
)


def prospect_rows(queryset: QuerySet[Prospect]) -> Iterator[list[Any]]:
    """The header, then one list of typed values per prospect."""
    queryset = (
        queryset.select_related("assignee")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .order_by("-created_at", "-id")
    )
    return table_rows(PROSPECT_COLUMNS, queryset.iterator(chunk_size=CHUNK_SIZE))


def table_rows(columns: Sequence[Column], objects: Iterable[Any]) -> Iterator[list[Any]]:
    yield [column.header for column in columns]
    for obj in objects:
        yield [column.value(obj) for column in columns]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return _local(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_rows(rows: Iterable[list[Any]]) -> Iterator[list[str]]:
    """Rows as neutralized text, ready for csv.writer."""
    for row in rows:
        yield [neutralize_cell(_text(value)) for value in row]


def csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    """One encoded CSV line at a time, for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in csv_rows(rows):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_csv(rows: Iterable[list[Any]], stream: IO[str]) -> None:
    csv.writer(stream).writerows(csv_rows(rows))


def write_xlsx(rows: Iterable[list[Any]], stream: IO[bytes], *, title: str) -> None:
    """Write rows as a one-sheet workbook. Numbers stay numbers; everything else
    becomes a neutralized string cell; nothing becomes a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])

    def cell(value: Any) -> WriteOnlyCell:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        text = ILLEGAL_CHARACTERS_RE.sub("", neutralize_cell(_text(value)))
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


def xlsx_filename(campaign_slug: str, what: str) -> str:
    return f"{campaign_slug}-{what}-{timezone.localdate():%Y-%m-%d}.xlsx"
