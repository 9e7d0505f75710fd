"""Real files for import tests, written the way the programs people use write them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Rows = Sequence[Sequence[Any]]


def csv_bytes(rows: Rows, *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.write_bytes(csv_bytes(rows, encoding=encoding, delimiter=delimiter))
    return path


def xlsx_bytes(rows: Rows, *, formulas: dict[str, str] | None = None) -> bytes:
    """A workbook as openpyxl (standing in for Excel) saves it. ``formulas``
    puts formula cells (by coordinate) with no cached value."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    for coordinate, formula in (formulas or {}).items():
        sheet[coordinate] = formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_xlsx(path: Path, rows: Rows, **kwargs: Any) -> Path:
    path.write_bytes(xlsx_bytes(rows, **kwargs))
    return path
