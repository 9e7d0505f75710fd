"""A hostile digest (mailed or pasted) costs milliseconds: each pattern of the
digest parser with hypothesis and with an adversarial input at its cap.

The budget is a generous constant: the shapes guarded against take seconds or
hours at these sizes, the linear ones milliseconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.journalist_queries import parsing

BUDGET = 0.5  # seconds, one call on an input at its cap
PROPERTY = settings(max_examples=150, deadline=None)
DIGEST_ALPHABET = st.sampled_from(
    [*"aZ09@.+-_:/<>()'\"* =\t\n", "Summary: ", "Query: ", "Email: ", "Deadline: ", "http://"]
)
digest_text = st.lists(DIGEST_ALPHABET, max_size=300).map("".join)
RECEIVED = datetime(2026, 3, 10, 12, tzinfo=UTC)


def timed(call, *args, **kwargs):
    # CPU time, not wall time: the bound is on what the input costs to process;
    # wall time would also count whatever else shares the cores (the suite runs
    # in parallel, scripts/run-tests.sh).
    started = time.process_time()
    result = call(*args, **kwargs)
    return result, time.process_time() - started


@PROPERTY
@given(digest_text)
def test_any_pasted_text_gives_queries_and_never_loses_it(text):
    digest, elapsed = timed(parsing.parse_text, text, received_at=RECEIVED)
    if text.strip():
        assert digest.queries
    for query in digest.queries:
        assert len(query.query_text) <= parsing.MAX_QUERY_TEXT
    assert elapsed < BUDGET


@PROPERTY
@given(st.binary(max_size=4096))
def test_any_bytes_parse_as_an_email(raw):
    digest, elapsed = timed(parsing.parse_email, raw)
    assert isinstance(digest.queries, list)
    assert elapsed < BUDGET


@PROPERTY
@given(label=st.sampled_from(parsing._ALL_LABELS), value=digest_text.map(lambda t: t[:80]))
def test_a_label_line_is_read_whatever_its_value(label, value):
    line = f"  12) {label.title()} : {value}".split("\n")[0]
    match, elapsed = timed(parsing._LABEL_LINE.match, line)
    assert match is not None
    assert match["label"].lower() == label
    assert elapsed < BUDGET


@PROPERTY
@given(prefix=digest_text, suffix=digest_text)
def test_addresses_and_links_are_found_in_any_surroundings(prefix, suffix):
    text = f"{prefix} jane.doe+q@runners-weekly.example {suffix}"
    found, elapsed = timed(parsing._EMAIL.findall, text)
    assert "jane.doe+q@runners-weekly.example" in found
    assert elapsed < BUDGET
    text = f"{prefix} https://runners.example/q/1 {suffix}"
    found, elapsed = timed(parsing._URL.findall, text)
    assert "https://runners.example/q/1" in found
    assert elapsed < BUDGET


@PROPERTY
@given(digest_text)
def test_tags_are_stripped_from_junk_markup(text):
    stripped, elapsed = timed(parsing._TAG.sub, " ", text + "<b>bold</b>")
    assert "<b>" not in stripped
    assert "bold" in stripped
    assert elapsed < BUDGET


@PROPERTY
@given(digest_text)
def test_deadlines_parse_or_not_within_budget(text):
    parsed, elapsed = timed(parsing.parse_deadline, text[:200], RECEIVED)
    assert parsed is None or parsed.tzinfo is not None
    assert elapsed < BUDGET


CAP = parsing.MAX_DIGEST_TEXT
ADVERSARIAL_TEXT = {
    "address characters without an @": "a" * CAP,
    "a@ repeated": "a@" * (CAP // 2),
    "an address with a domain of dots": "a@" + "b." * (CAP // 2),
    "whitespace after Deadline": "Deadline" + " \n" * (CAP // 2 - 8),
    "Deadline repeated over whitespace": ("deadline" + " " * 56) * (CAP // 64),
    "label-like lines": ("   12)   summary   " + " " * 80 + "\n") * (CAP // 100),
    "footer-like lines": ("     ----" + "-" * 90 + "x\n") * (CAP // 100),
    "http repeated": "http://" * (CAP // 7),
    "one enormous line": "Summary: " + "x" * CAP,
}


@pytest.mark.parametrize("text", ADVERSARIAL_TEXT.values(), ids=ADVERSARIAL_TEXT.keys())
def test_adversarial_digest_text_within_budget(text):
    _, elapsed = timed(parsing.parse_text, text, received_at=RECEIVED)
    assert elapsed < BUDGET


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (parsing._EMAIL, "a" * CAP),
        (parsing._EMAIL, "a@" * (CAP // 2)),
        (parsing._EMAIL, "a@" + "b" * CAP),
        (parsing._URL, "https://" * (CAP // 8)),
        (parsing._TAG, "<" * CAP),
        (parsing._TAG, "<a" * (CAP // 2)),
        (parsing._DEADLINE, "deadline" + " " * CAP),
        (parsing._PITCH_BUTTON, "pitc" * (CAP // 4)),
    ],
    ids=["email-a", "email-a@", "email-domain", "url", "tag-<", "tag-<a", "deadline", "button"],
)
def test_each_pattern_at_the_text_cap(pattern, text):
    _, elapsed = timed(pattern.findall, text)
    assert elapsed < BUDGET


def test_junk_markup_falls_back_to_tag_stripping_within_budget():
    _, elapsed = timed(parsing.html_to_text, "<" * parsing.MAX_DIGEST_HTML)
    assert elapsed < BUDGET


def test_a_pasted_megabyte_is_capped_before_it_is_split():
    digest, elapsed = timed(parsing.parse_text, "Summary: x\nQuery: " + "y" * (4 * CAP))
    assert len(digest.text) <= CAP
    assert elapsed < BUDGET


def test_an_email_of_blank_lines_at_the_raw_cap_within_budget():
    raw = b"From: haro@helpareporter.net\r\nSubject: HARO\r\n\r\n" + b"\n" * (2 * 1024 * 1024)
    _, elapsed = timed(parsing.parse_email, raw)
    assert elapsed < BUDGET


def test_an_email_with_a_hostile_content_type_is_still_read():
    raw = (
        b"From: haro@helpareporter.net\r\nContent-Type: text/plain; charset="
        + b"(" * 8000
        + b"\r\n\r\nSummary: Shoes\nQuery: Which trail shoes?\n"
    )
    digest, elapsed = timed(parsing.parse_email, raw)
    assert [q.title for q in digest.queries] == ["Shoes"]
    assert elapsed < BUDGET


def test_detect_service_on_a_long_subject():
    _, elapsed = timed(parsing.detect_service, "x" * 998, "haro " * 200, "a" * CAP)
    assert elapsed < BUDGET


# --- campaign keywords in a query (services.matched_keywords) ---------------------------


def query_with(text: str):
    from outreach.journalist_queries.models import JournalistQuery

    return JournalistQuery(title="t", category="c", query_text=text)


@PROPERTY
@given(prefix=digest_text, suffix=digest_text)
def test_keywords_are_found_at_word_starts(prefix, suffix):
    from outreach.journalist_queries.services import matched_keywords

    text = f"{prefix} trail shoes {suffix}"
    found, elapsed = timed(matched_keywords, query_with(text), ["trail shoes", "zzz-absent"])
    assert found == ["trail shoes"]
    assert elapsed < BUDGET


def test_keywords_at_the_query_text_cap():
    from outreach.journalist_queries.services import matched_keywords

    keywords = ["a" * 99 + "b", "aa aa", "x"]
    text = "a" * parsing.MAX_QUERY_TEXT
    _, elapsed = timed(matched_keywords, query_with(text), keywords * 33)
    assert elapsed < BUDGET
