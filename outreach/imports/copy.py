"""Fast inserts for imports: PostgreSQL COPY, bulk_create elsewhere.

Measured on the 2-core machine (tests/benchmarks/bench_import.py): Django's
bulk_create spends most of an import building model instances and compiling
28-column INSERTs (about 2,200 prospects/s with history rows); COPY of plain
tuples is several times faster. Rows are dicts of column attnames; a column a
row leaves out gets the field's default, as the ORM would give it. Constraints
still hold: COPY checks them like INSERT does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.adapt import PyFormat, Transformer

# Lines sent to the database at a time: about psycopg's own 32 KB buffer.
LINES_PER_WRITE = 100
# What COPY's text format escapes, as psycopg escapes it (psycopg/_copy_base.py).
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\\": "\\\\",
}
_ESCAPE = re.compile("[\b\t\n\v\f\r\\\\]")
# A string with none of these is written as it is.
_SPECIAL = re.compile("[\x00\b\t\n\v\f\r\\\\]")


def _escaped(match: re.Match[str]) -> str:
    return _ESCAPES[match.group(0)]


# The sequence is looked up once (the scalar subquery runs once), not once per
# id: pg_get_serial_sequence and the text-to-regclass cast made taking 100,000
# ids cost 0.3-0.5 s of the database's time instead of 0.05 s.
_NEXT_IDS = (
    "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass)) FROM generate_series(1, %s)"
)


def _columns(model: type[models.Model], *, with_id: bool) -> list[models.Field]:
    # PostgreSQL computes generated columns itself and refuses them in COPY.
    return [
        f
        for f in model._meta.concrete_fields
        if (with_id or not f.primary_key) and not getattr(f, "generated", False)
    ]


def _db_value(field: models.Field, value: Any) -> Any:
    """A value as COPY must get it. JSON goes as JSON: psycopg writes a Python
    list as an array literal ("{}" for an empty one), which a JSON column reads
    as an object."""
    if isinstance(field, models.JSONField) and value is not None:
        return field.get_db_prep_save(value, connection)
    return value


def _defaults(fields: Sequence[models.Field]) -> dict[str, Any]:
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        elif field.primary_key:
            continue
        else:
            defaults[field.attname] = _db_value(field, field.get_default())
    return defaults


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, returning_ids: bool = False
) -> list[int]:
    """Insert rows; with ``returning_ids`` return their new primary keys, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = model._default_manager.bulk_create([model(**row) for row in rows], batch_size=1000)
        return [obj.pk for obj in objs] if returning_ids else []
    fields = _columns(model, with_id=returning_ids)
    defaults = _defaults(fields)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    ids: list[int] = []
    with connection.wrap_database_errors, connection.cursor() as wrapper:
        cursor = wrapper.cursor
        if returning_ids:
            # Ids are taken from the table's own sequence first, so the rows
            # that refer to these (history, tags) can be written by COPY too.
            cursor.execute(_NEXT_IDS, [model._meta.db_table, model._meta.pk.column, len(rows)])
            ids = [row[0] for row in cursor.fetchall()]
        # Every row of one call has the same keys: work out once which columns
        # come from the row and which from a default.
        template = [None if f.primary_key else defaults[f.attname] for f in fields]
        from_row = [(i, f) for i, f in enumerate(fields) if f.attname in rows[0]]
        pk_index = next((i for i, f in enumerate(fields) if f.primary_key), None)
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for index, row in enumerate(rows):
                values = template.copy()
                for position, field in from_row:
                    values[position] = _db_value(field, row[field.attname])
                if pk_index is not None:
                    values[pk_index] = ids[index]
                copy.write_row(values)
    return ids


def int_array(values: Sequence[int]) -> str:
    """An array of integers as PostgreSQL reads it (``'{1,2,3}'``), for a
    ``%s::bigint[]`` parameter: psycopg's list dumper spends microseconds on
    each element of a batch's 5,000 ids."""
    return "{" + ",".join(map(str, values)) + "}"


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Take ``count`` primary keys from the table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_IDS, [model._meta.db_table, model._meta.pk.column, count])
        return [row[0] for row in cursor.fetchall()]


class CopyStream:
    """One COPY into a table, kept open while rows keep coming (PostgreSQL).

    While it is open the connection can do nothing else: ``close`` it before
    any other query. A row is the values of ``columns``, in that order, and
    carries its primary key, taken beforehand with ``allocate_ids``; every
    other column gets its value from ``fixed``, or else the field's default.

    Rows are written as COPY text here rather than by psycopg's ``write_row``:
    the fixed part of every line is formatted once, and plain strings and
    integers (most values) need no dumper. What has no shortcut (dates, NUL
    characters, which psycopg refuses) goes through psycopg's own dumper, and
    every value is escaped as psycopg escapes it, so the database reads the
    same values as from ``write_row``.
    """

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        *,
        fixed: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        fields = _columns(model, with_id=True)
        values = {**_defaults(fields), **(fixed or {})}
        by_name = {f.attname: f for f in fields}
        rest = [f for f in fields if f.attname not in columns]
        self.fields = [by_name[name] for name in columns] + rest
        self._rest = [values.get(f.attname) for f in rest]
        self._tail = ""
        self._lines: list[str] = []
        self._transformer: Any = None  # psycopg's (C or Python) Transformer
        self._cursor: Any = None
        self._context: Any = None
        self._copy: Any = None

    def write(self, row: Sequence[Any]) -> None:
        if self._copy is None:
            self._open()
        special, text = _SPECIAL.search, self._text
        # Plain strings, most values, inline: a call per value costs more.
        line = "\t".join(
            [
                value if type(value) is str and special(value) is None else text(value)
                for value in row
            ]
        )
        self._lines.append(line + self._tail)
        if len(self._lines) >= LINES_PER_WRITE:
            self._send()

    def _text(self, value: Any) -> str:
        """One value as COPY text, as psycopg's ``write_row`` would write it."""
        if type(value) is str:
            if _SPECIAL.search(value) is None:
                return value
        elif value is None:
            return "\\N"
        elif type(value) is int:
            return str(value)
        # Raises for a NUL character, as write_row did.
        dumped = self._transformer.get_dumper(value, PyFormat.TEXT).dump(value)
        if dumped is None:
            return "\\N"
        return _ESCAPE.sub(_escaped, bytes(dumped).decode())

    def _open(self) -> None:
        table = connection.ops.quote_name(self.model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        self._cursor = connection.cursor()
        self._transformer = Transformer(self._cursor.cursor)
        self._tail = "".join("\t" + self._text(value) for value in self._rest) + "\n"
        with connection.wrap_database_errors:
            self._context = self._cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN")
            self._copy = self._context.__enter__()

    def _send(self) -> None:
        with connection.wrap_database_errors:
            self._copy.write("".join(self._lines))
        self._lines.clear()

    def close(self) -> None:
        if self._copy is None:
            return
        try:
            if self._lines:
                self._send()
            with connection.wrap_database_errors:
                self._context.__exit__(None, None, None)
        finally:
            self._reset()

    def abort(self) -> None:
        """End the COPY with an error, so the connection can roll back."""
        if self._copy is None:
            return
        stop = RuntimeError("import stopped")
        try:
            self._context.__exit__(RuntimeError, stop, None)
        except Exception:  # noqa: S110 - the error that stopped the import is the one to report
            pass
        finally:
            self._reset()

    def _reset(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
        self._lines.clear()
        self._cursor = self._context = self._copy = None
