"""The loop every import runs: read rows, clean each, drop repeats, look up what
the campaign already has, then create and update in batches.

What is being imported (prospects, backlinks) is an ``Importer``: it says which
fields exist, how a row becomes a record, what identifies a record, and how to
write a batch. The engine never writes outside a transaction on its own; callers
wrap a writing run in one, so an import is all or nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils import timezone

from campaigns.spreadsheets import unquote_cell
from outreach.imports.mapping import Field, check_mapping
from outreach.imports.reader import Cell, Table, UnreadableFile
from outreach.imports.validate import RowError, RowErrors

if TYPE_CHECKING:
    from datetime import datetime

    from campaigns.models import Campaign, User

# Rows looked up and written together: bigger batches mean fewer round trips;
# 5,000 keeps a batch's records and lookups to a few MB.
BATCH_SIZE = 5000
PREVIEW_ROWS = 10
KEPT_REJECTIONS = 100


class MappingProblem(UnreadableFile):
    """The columns, as mapped, cannot make records (e.g. no URL column)."""


@dataclass
class Rejection:
    row: int
    problems: list[tuple[str, str]]  # (column header, reason)
    cells: list[Cell]

    @property
    def reason(self) -> str:
        return "; ".join(f"{column}: {reason}" for column, reason in self.problems)


@dataclass
class Change:
    """An existing record and the fields a row changes in it."""

    obj: Any
    fields: list[str]
    record: Any


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already in the campaign, and the file adds nothing
    repeated: int = 0  # the same key earlier in the file
    rejected: int = 0
    updated_fields: Counter[str] = field(default_factory=Counter)
    preview: list[dict[str, str]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.unchanged + self.repeated

    def line(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, "
            f"duplicates {self.duplicates}, rejected {self.rejected}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "repeated": self.repeated,
            "rejected": self.rejected,
            "updated_fields": dict(self.updated_fields.most_common()),
            "preview": self.preview,
            "rejections": [
                {"row": r.row, "reason": r.reason, "problems": r.problems} for r in self.rejections
            ],
        }


class Importer(ABC):
    """What one kind of import knows; the engine does the rest."""

    target: ClassVar[str]
    label: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]
    preview_columns: ClassVar[tuple[str, ...]]
    # Templates get the class itself (for its label and fields); Django would
    # otherwise call it.
    do_not_call_in_templates: ClassVar[bool] = True

    def __init__(
        self,
        campaign: Campaign,
        *,
        by: User | None = None,
        options: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        self.campaign = campaign
        self.by = by
        self.options = options or {}
        self.now = now or timezone.now()

    @classmethod
    def field_label(cls, name: str) -> str:
        return next((f.label for f in cls.fields if f.name == name), name)

    @abstractmethod
    def mapping_problems(self, mapped: set[str]) -> list[str]:
        """Sentences saying what the mapped fields lack (e.g. a URL column)."""

    @abstractmethod
    def clean(self, values: dict[str, Cell]) -> Any:
        """A record from one row's mapped, non-blank cells; raise RowError(s)."""

    @abstractmethod
    def key(self, record: Any) -> Hashable:
        """What makes two records the same one."""

    @abstractmethod
    def existing_keys(self) -> set[Hashable]:
        """Every key the campaign already has, read once at the start, so a new
        row is known to be new without asking the database row by row."""

    @abstractmethod
    def find_existing(self, keys: Sequence[Hashable]) -> dict[Hashable, Any]:
        """The campaign's existing objects for these keys.

        Not locked: an update writes only the fields the file changes, with the
        file's values (no read-modify-write), so a person editing the same
        record meanwhile loses nothing but a same-field race, which the last
        writer wins, as with two people editing. Database constraints still
        guard every invariant. Locking every matched row would make re-importing
        a big file slow and block people for its whole transaction."""

    @abstractmethod
    def merge(self, obj: Any, record: Any) -> list[str]:
        """Copy the record's values into obj; return the fields that changed."""

    @abstractmethod
    def build(self, record: Any) -> Any:
        """What a new record will be stored as (raise RowError if it can't be)."""

    @abstractmethod
    def add(self, obj: Any, record: Any) -> None:
        """Start writing one new record (it may be streamed at once)."""

    @abstractmethod
    def flush_new(self) -> None:
        """Finish writing the records added so far; the connection is free after."""

    @abstractmethod
    def abort(self) -> None:
        """Stop writing after an error (the transaction will be rolled back)."""

    @abstractmethod
    def save_changed(self, changed: list[Change]) -> None:
        """Write updates to existing records."""

    @abstractmethod
    def describe(self, obj: Any, record: Any) -> dict[str, str]:
        """One preview row: the object as it will be stored."""


def run(
    importer: Importer,
    table: Table,
    mapping: dict[int, str],
    *,
    write: bool,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_reject: Callable[[Rejection], None] | None = None,
) -> Summary:
    """Import ``table`` through ``importer``. With ``write=False`` nothing is
    written (a preview / dry run); the counts are what a real run would give.

    New rows are handed to the importer as soon as they are clean, so on
    PostgreSQL the database stores them (one long COPY) while Python reads and
    checks the next rows: on two cores that is the difference between waiting
    for each other and working at the same time. Rows whose key the campaign
    already has are collected and merged in batches.
    """
    problems = check_mapping(mapping, importer.fields, len(table.headers))
    problems += importer.mapping_problems(set(mapping.values()))
    if problems:
        raise MappingProblem(" ".join(problems))
    batch_size = batch_size or BATCH_SIZE
    column_of = {name: _column_name(table.headers, index) for index, name in mapping.items()}
    summary = Summary()
    preview: list[tuple[int, dict[str, str]]] = []
    seen: set[Hashable] = set()
    known = importer.existing_keys()
    pending: list[tuple[int, list[Cell], Any]] = []
    added = 0

    def reject(number: int, cells: list[Cell], errors: list[RowError]) -> None:
        summary.rejected += 1
        rejection = Rejection(
            row=number,
            problems=[
                (column_of.get(e.field) or importer.field_label(e.field), e.reason) for e in errors
            ],
            cells=cells,
        )
        if len(summary.rejections) < KEPT_REJECTIONS:
            summary.rejections.append(rejection)
        if on_reject is not None:
            on_reject(rejection)

    def show(number: int, action: str, obj: Any, record: Any) -> None:
        if len(preview) < PREVIEW_ROWS * 2:
            preview.append(
                (number, {"row": str(number), "action": action, **importer.describe(obj, record)})
            )

    def new(number: int, cells: list[Cell], record: Any) -> None:
        nonlocal added
        try:
            obj = importer.build(record)
        except (RowError, RowErrors) as exc:
            reject(number, cells, exc.errors if isinstance(exc, RowErrors) else [exc])
            return
        summary.created += 1
        show(number, "new", obj, record)
        if write:
            importer.add(obj, record)
        added += 1

    def end_batch() -> None:
        nonlocal added
        if write:
            importer.flush_new()
        added = 0
        if progress is not None:
            progress(summary.rows)

    def resolve_pending() -> None:
        if write:
            importer.flush_new()  # the connection is needed for the lookup
        existing = importer.find_existing([importer.key(r) for _, _, r in pending])
        changed: list[Change] = []
        for number, cells, record in pending:
            obj = existing.get(importer.key(record))
            if obj is None:  # deleted since the import started
                new(number, cells, record)
                continue
            try:
                fields = importer.merge(obj, record)
            except (RowError, RowErrors) as exc:
                reject(number, cells, exc.errors if isinstance(exc, RowErrors) else [exc])
                continue
            if not fields:
                summary.unchanged += 1
                continue
            changed.append(Change(obj, fields, record))
            summary.updated += 1
            summary.updated_fields.update(fields)
            labels = ", ".join(importer.field_label(f) for f in fields)
            show(number, f"update: {labels}", obj, record)
        if write and changed:
            importer.save_changed(changed)
        pending.clear()

    try:
        columns = list(mapping.items())
        for number, cells in table.rows():
            summary.rows += 1
            # The blank check and unquote_cell, inlined: this runs for every cell of
            # every row, and most cells are neither blank nor quoted.
            values: dict[str, Cell] = {}
            for index, name in columns:
                value = cells[index]
                if value is None:
                    continue
                if isinstance(value, str):
                    if not value.strip():
                        continue
                    if value[0] == "'":
                        value = unquote_cell(value)
                values[name] = value
            try:
                record = importer.clean(values)
            except RowError as exc:
                reject(number, cells, [exc])
                continue
            except RowErrors as exc:
                reject(number, cells, exc.errors)
                continue
            key = importer.key(record)
            if key in seen:
                summary.repeated += 1
                continue
            seen.add(key)
            if key in known:
                pending.append((number, cells, record))
                if len(pending) >= batch_size:
                    resolve_pending()
                    end_batch()
            else:
                new(number, cells, record)
                if added >= batch_size:
                    end_batch()
        if pending:
            resolve_pending()
        end_batch()
    except BaseException:
        if write:
            importer.abort()
        raise
    summary.preview = [row for _, row in sorted(preview, key=lambda item: item[0])][:PREVIEW_ROWS]
    return summary


def _column_name(headers: list[str], index: int) -> str:
    header = headers[index] if index < len(headers) else ""
    return header or f"column {index + 1}"
