"""The import's parsers on cells built to make them backtrack: header names,
URLs, dates, e-mail addresses, ratings. Same answers as a plain reference, and
each call on an input sized at its cap far under a second. No database needed.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from links.prospecting import gap
from outreach.imports import validate as v
from outreach.imports.mapping import MAX_HEADER_KEY_INPUT, Field, guess_mapping, header_key
from outreach.imports.reader import SAMPLE_BYTES, open_table, sniff_delimiter
from tests.spreadsheets import csv_bytes

BUDGET = 0.5  # seconds, for one call on an input sized at its cap
PROPERTY = settings(max_examples=80, deadline=None)

T = TypeVar("T")


def within_budget(call: Callable[[], T]) -> T:
    # CPU time: the bound is on the work, not on what else shares the cores.
    started = time.process_time()
    result = call()
    elapsed = time.process_time() - started
    assert elapsed < BUDGET, f"took {elapsed:.3f} s"
    return result


def refused_or_value(call: Callable[[], T]) -> T | None:
    try:
        return within_budget(call)
    except v.RowError:
        return None


# -- header names ----------------------------------------------------------------------------


def old_header_key(header: str) -> str:
    """header_key as it was, with the regex that never finished on 40,000 "(" ."""
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", header.lower())
    text = re.sub(r"[\s_\-./]+", " ", text)
    text = re.sub(r"[^\w ]+", "", text)
    return " ".join(text.split())


@PROPERTY
@given(st.text(alphabet="()[]\n _-./aDR#é", max_size=MAX_HEADER_KEY_INPUT))
def test_header_key_reads_like_the_old_regex(header: str) -> None:
    assert within_budget(lambda: header_key(header)) == old_header_key(header)


@pytest.mark.parametrize(
    "header", ["(" * 40_000, "[" * 40_000, "(" * MAX_HEADER_KEY_INPUT, "([\n" * 20_000]
)
def test_header_key_on_hostile_headers(header: str) -> None:
    assert within_budget(lambda: header_key(header)) == ""


def test_header_key_reads_only_the_cap() -> None:
    assert header_key("Domain Rating (DR)" + " x" * MAX_HEADER_KEY_INPUT).startswith(
        "domain rating x"
    )


def test_a_file_whose_header_row_is_forty_thousand_brackets() -> None:
    data = csv_bytes([["(" * 40_000, "Website"], ["x", "https://a.example/"]])
    fields = [Field("url", "Website", ("page url",))]

    def read() -> dict[int, str]:
        with open_table(io.BytesIO(data), name="hostile.csv") as table:
            return guess_mapping(table.headers, fields)

    assert within_budget(read) == {1: "url"}


def test_delimiter_sniffing_on_a_sample_of_quotes() -> None:
    sample = ('"' + "," * 100 + '"\n') * (SAMPLE_BYTES // 103)
    within_budget(lambda: sniff_delimiter(sample, complete=False))


# -- URL cells -------------------------------------------------------------------------------


@PROPERTY
@given(st.text(alphabet="htps:/.a-b%20xn--é@[]:#? \t", max_size=80), st.booleans())
def test_url_cells_are_read_or_refused_quickly(cell: str, bare: bool) -> None:
    found = refused_or_value(lambda: v.web_url_and_domain(cell, field="url", bare_domain=bare))
    if found is not None:
        url, domain = found
        assert url.startswith(("http://", "https://"))
        assert len(url) <= v.MAX_URL_LENGTH
        assert v._HOSTNAME.match(domain)


@pytest.mark.parametrize(
    "cell",
    [
        "https://a.example/#" + "x" * (v.MAX_URL_CELL - 20),  # at the cap: read
        "https://a.example/" + "%" * v.MAX_URL_CELL,  # past the cap: refused unread
        "https://" + "a" * 62 + ("." + "a" * 62) * 3 + "9/",
        "https://" + ("a-" * 30 + "a.") * 8 + "b/",
    ],
)
def test_url_cells_at_the_cap(cell: str) -> None:
    refused_or_value(lambda: v.web_url_and_domain(cell, field="url"))


def test_a_url_cell_past_the_cap_is_refused() -> None:
    with pytest.raises(v.RowError, match="longer than"):
        v.web_url(" https://a.example/#" + "x" * v.MAX_URL_CELL, field="url")


# -- e-mail, dates, numbers ------------------------------------------------------------------


@PROPERTY
@given(st.text(alphabet='a@.-_ "\\é[]', max_size=60))
def test_email_cells_are_read_or_refused_quickly(cell: str) -> None:
    address = refused_or_value(lambda: v.email(cell, field="email"))
    assert address is None or "@" in address


def test_email_cells_at_django_s_cap() -> None:
    # Django's validator refuses anything past 320 characters before its regexes.
    for cell in ("a" * 64 + "@" + "b." * 127 + "c", "a@" + "b" * 10_000_000):
        assert refused_or_value(lambda cell=cell: v.email(cell, field="email")) is None


@PROPERTY
@given(st.text(alphabet="0123456789-/: TZ+,JanSeptember ", max_size=v.MAX_DATE_CELL))
def test_date_cells_are_read_or_refused_quickly(cell: str) -> None:
    refused_or_value(lambda: v.a_date(cell, field="date"))
    refused_or_value(lambda: v.a_datetime(cell, field="date", date_only_at=v.time(9)))


@pytest.mark.parametrize(
    "cell",
    [
        "1" + " " * (v.MAX_DATE_CELL - 2) + "x",
        "Sep" + " " * (v.MAX_DATE_CELL - 4) + "1",
        "2025-01-01T" + "0" * 10_000_000,
    ],
)
def test_date_cells_at_the_cap(cell: str) -> None:
    assert refused_or_value(lambda: v.a_date(cell, field="date")) is None
    date_only_at = v.time(9)
    assert (
        refused_or_value(lambda: v.a_datetime(cell, field="d", date_only_at=date_only_at)) is None
    )


# -- the link gap's cells --------------------------------------------------------------------


@PROPERTY
@given(st.text(alphabet="htps:/.a-b%20é, 5.7", max_size=60))
def test_link_gap_cells_are_read_quickly(cell: str) -> None:
    domain = within_budget(lambda: gap._domain(cell))
    assert domain is None or "/" not in domain
    rating = within_budget(lambda: gap._rating(cell))
    assert rating is None or 0 <= rating <= 100


def test_link_gap_cells_at_the_cap() -> None:
    within_budget(lambda: gap._domain("a." * (v.MAX_URL_CELL // 2)))  # at the cap: read
    assert within_budget(lambda: gap._domain("https://" + "a" * 10_000_000)) is None
    assert within_budget(lambda: gap._rating("5" * 10_000_000)) is None
    assert gap._rating("57,3") == 57
