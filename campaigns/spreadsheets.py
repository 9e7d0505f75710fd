"""Spreadsheet safety, shared by every export (CSV and XLSX) and by the imports
that read those exports back.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula, and tab or carriage return can smuggle one past a naive check; a
prospect's notes or a publisher's anchor text would then run on the
manager's machine when the client report is opened (CSV injection). A leading
single quote makes Excel, LibreOffice and Google Sheets show the text as text.
"""

from __future__ import annotations

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
