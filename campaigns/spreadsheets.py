"""Spreadsheet safety, shared by every export (the CSV exports, XLSX later).

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
