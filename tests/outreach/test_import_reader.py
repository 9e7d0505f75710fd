"""The spreadsheet reader, on real files in every encoding and shape the
issue names, and on hostile ones. No database needed."""

from __future__ import annotations

import codecs
import io
import struct
import zipfile
from datetime import datetime

import pytest

from outreach.imports.reader import TooManyRows, UnreadableFile, open_table
from tests.spreadsheets import csv_bytes, xlsx_bytes

ROWS = [
    ["Website", "Contact Email", "Notes"],
    ["https://café.example/a", "ana@café.example", "Déjà vu — “quotes”"],
    ["https://b.example/", "bo@b.example", "plain"],
]


def read(data: bytes, name: str = "file.csv", **kwargs) -> tuple[list[str], list, dict]:
    with open_table(io.BytesIO(data), name=name, **kwargs) as table:
        rows = list(table.rows())
        return table.headers, rows, {"encoding": table.encoding, "delimiter": table.delimiter}


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8 (BOM)"),
        ("utf-16", b"", "utf-16"),  # Python writes the BOM, as Excel does
        ("utf-16-le", b"", "utf-16-le"),  # no BOM: recognized by its NUL bytes
        ("utf-16-be", b"", "utf-16-be"),
    ],
)
def test_unicode_encodings_read_the_same(encoding, prefix, expected):
    headers, rows, info = read(prefix + csv_bytes(ROWS, encoding=encoding))
    assert headers == ROWS[0]
    assert [cells for _, cells in rows] == ROWS[1:]
    assert info["encoding"] == expected


def test_excel_unicode_text_is_utf16_with_tabs():
    data = codecs.BOM_UTF16_LE + csv_bytes(ROWS, encoding="utf-16-le", delimiter="\t")
    headers, rows, info = read(data, name="export.txt")
    assert (headers, rows[0][1][2]) == (ROWS[0], "Déjà vu — “quotes”")
    assert info["delimiter"] == "\t"


def test_cp1252_is_the_fallback_for_non_utf8_bytes():
    notes = "Café \u2013 naïve €5"  # an en dash: cp1252 has it, latin-1 does not
    rows = [["URL", "Notes"], ["https://a.example/", notes]]
    _headers, read_rows, info = read(csv_bytes(rows, encoding="cp1252"))
    assert info["encoding"] == "cp1252"
    assert read_rows[0][1] == ["https://a.example/", notes]


def test_utf8_file_with_a_late_non_utf8_byte_is_read_as_cp1252():
    # The first 64 KB are ASCII; only a full scan finds the cp1252 byte.
    rows = [["URL", "Notes"]] + [[f"https://x{i}.example/", "n"] for i in range(5000)]
    data = csv_bytes(rows) + "https://late.example/,caf\xe9\r\n".encode("cp1252")
    _headers, read_rows, info = read(data)
    assert info["encoding"] == "cp1252"
    assert read_rows[-1][1] == ["https://late.example/", "café"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(delimiter):
    rows = [["URL", "Name", "DR"], ["https://a.example/", "Ann, Jr.; PhD", "40"]]
    headers, read_rows, info = read(csv_bytes(rows, delimiter=delimiter))
    assert info["delimiter"] == delimiter
    assert headers == ["URL", "Name", "DR"]
    assert read_rows[0][1] == ["https://a.example/", "Ann, Jr.; PhD", "40"]


def test_excel_sep_line_names_the_delimiter():
    data = b"sep=;\r\nURL;Name\r\nhttps://a.example/;Ann\r\n"
    headers, rows, info = read(data)
    assert (headers, info["delimiter"]) == (["URL", "Name"], ";")
    assert rows == [(3, ["https://a.example/", "Ann"])]


def test_quoted_newlines_stay_in_one_row_and_row_numbers_count_records():
    rows = [
        ["URL", "Notes"],
        ["https://a.example/", "line one\nline two\r\nline three"],
        ["", ""],
        ["https://b.example/", "after a blank row"],
    ]
    _headers, read_rows, _ = read(csv_bytes(rows))
    assert read_rows == [
        (2, ["https://a.example/", "line one\nline two\r\nline three"]),
        (4, ["https://b.example/", "after a blank row"]),
    ]


def test_short_and_long_rows_are_padded_and_cut_to_the_header():
    data = b"URL,Name\nhttps://a.example/\nhttps://b.example/,Bo,extra,more\n"
    _headers, rows, _ = read(data)
    assert [cells for _, cells in rows] == [
        ["https://a.example/", None],
        ["https://b.example/", "Bo"],
    ]


def test_nul_characters_are_dropped():
    data = b"URL,Notes\nhttps://a.example/,a\x00b\n" + csv_bytes(
        [[f"https://x{i}.example/", "fine"] for i in range(10)]
    )
    _headers, rows, _ = read(data)
    assert rows[0][1][1] == "ab"


def test_xlsx_cells_keep_their_types_and_sheet_row_numbers():
    day = datetime(2025, 3, 1, 9, 30)
    data = xlsx_bytes(
        [
            ["URL", "DR", "Deadline", "Active"],
            ["https://a.example/", 45, day, True],
            [None, None, None, None],
            ["https://b.example/", 7.0, None, False],
        ]
    )
    headers, rows, _ = read(data, name="list.xlsx")
    assert headers == ["URL", "DR", "Deadline", "Active"]
    assert rows == [
        (2, ["https://a.example/", 45, day, True]),
        (4, ["https://b.example/", 7, None, False]),
    ]


def _patch_member(data: bytes, member: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == member:
                content = change(content)
            target.writestr(info.filename, content)
    return out.getvalue()


def test_xlsx_formula_is_never_evaluated_and_its_text_never_read():
    data = xlsx_bytes(
        [["URL", "Notes"], ["https://a.example/", None], ["https://b.example/", None]],
        formulas={"B2": '=WEBSERVICE("https://evil.example/")', "B3": "=1+1"},
    )

    # Give B2 the value Excel would have cached when it saved the file.
    def cache(xml: bytes) -> bytes:
        return xml.replace(
            b'<c r="B2"><f>WEBSERVICE("https://evil.example/")</f><v></v></c>',
            b'<c r="B2" t="str"><f>WEBSERVICE("https://evil.example/")</f><v>cached text</v></c>',
        )

    patched = _patch_member(data, "xl/worksheets/sheet1.xml", cache)
    assert patched != data
    _headers, rows, _ = read(patched, name="f.xlsx")
    # The cached value is what the person saw; a never-computed formula is empty.
    assert [cells[1] for _, cells in rows] == ["cached text", None]


def test_hostile_dimension_does_not_pad_rows():
    data = xlsx_bytes([["URL"], ["https://a.example/"]])
    patched = _patch_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:A2"/>', b'<dimension ref="A1:XFD1048576"/>'),
    )
    headers, rows, _ = read(patched, name="d.xlsx")
    assert (headers, rows) == (["URL"], [(2, ["https://a.example/"])])


# --- limits and refusals ----------------------------------------------------------


def test_file_over_the_size_cap_is_refused_before_reading():
    data = csv_bytes([["URL"]] + [["https://a.example/"]] * 100)
    with pytest.raises(UnreadableFile, match=r"limit is 0\.0 MB|the limit is"):
        read(data, max_bytes=100)


def test_row_cap_stops_with_a_clear_message():
    data = csv_bytes([["URL"]] + [[f"https://a{i}.example/"] for i in range(11)])
    with pytest.raises(TooManyRows, match="more than 10 data rows"):
        read(data, max_rows=10)
    assert len(read(data, max_rows=11)[1]) == 11


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "empty"),
        (b"\n\n ,\n", "a.csv", "no header row"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", r"old Excel \(\.xls\)"),
        (b"%PDF-1.4 something", "report.pdf", "Only CSV and XLSX"),
        (b"URL\nhttps://a.example/\n", "list.xlsx", "not an Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", "image.csv", "not a text file"),
    ],
)
def test_files_that_are_not_tables_are_refused(data, name, message):
    with pytest.raises(UnreadableFile, match=message):
        read(data, name=name)


def test_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnreadableFile, match=r"could not be read|damaged"):
        read(out.getvalue(), name="fake.xlsx")
    with pytest.raises(UnreadableFile, match="zip archive, not a spreadsheet"):
        read(out.getvalue(), name="fake.csv")


def test_zip_bomb_is_refused_from_its_directory_without_inflating():
    data = xlsx_bytes([["URL"], ["https://a.example/"]])
    # A sheet of 300 MB of spaces deflates to about 300 KB: a 1000:1 bomb.
    bomb = _patch_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + b" " * 300_000_000, 1),
    )
    assert len(bomb) < 1_000_000
    with pytest.raises(UnreadableFile, match="zip bomb"):
        read(bomb, name="bomb.xlsx")


def test_too_big_in_total_is_refused_even_at_a_plausible_ratio():
    data = xlsx_bytes([["URL"], ["https://a.example/"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<sheetData>", b"<sheetData>" + b" " * 400_000)
            target.writestr(info.filename, content)
    # 400 KB stored, declared as 60 MB: a ratio of 150 passes, the total does not.
    patched = _declare_size(out.getvalue(), "xl/worksheets/sheet1.xml", 60_000_000)
    with pytest.raises(UnreadableFile, match=r"inflate to 57\.2 MB"):
        read(patched, name="big.xlsx")


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size a member declares in the central directory."""
    buffer = bytearray(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(member)
    name = member.encode()
    offset = 0
    while True:
        offset = buffer.find(b"PK\x01\x02", offset)
        assert offset >= 0
        name_length = struct.unpack_from("<H", buffer, offset + 28)[0]
        if bytes(buffer[offset + 46 : offset + 46 + name_length]) == name:
            break
        offset += 4
    struct.pack_into("<I", buffer, offset + 24, size)
    assert info.file_size != size
    return bytes(buffer)


def test_member_that_inflates_past_its_declared_size_is_refused():
    data = xlsx_bytes([["URL"], ["https://a.example/"]] + [["https://b.example/"]] * 50)
    # Claim the sheet is tiny: zipfile stops at the claimed size and the CRC fails.
    lying = _declare_size(data, "xl/worksheets/sheet1.xml", 10)
    with pytest.raises(UnreadableFile):
        read(lying, name="liar.xlsx")


def test_malformed_sheet_xml_is_refused():
    data = xlsx_bytes([["URL"], ["https://a.example/"]])
    broken = _patch_member(
        data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"</sheetData>", b"<row>")
    )
    with pytest.raises(UnreadableFile):
        read(broken, name="broken.xlsx")


def test_xml_entity_expansion_is_refused():
    data = xlsx_bytes([["URL"], ["https://a.example/"]])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    hostile = _patch_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: laughs + xml.replace(b"https://a.example/", b"&lol3;"),
    )
    with pytest.raises(UnreadableFile):
        read(hostile, name="laughs.xlsx")
