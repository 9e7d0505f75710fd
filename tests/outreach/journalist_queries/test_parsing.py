"""Splitting digests into queries, on samples written in each service's layout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.journalist_queries.parsing import parse_deadline, parse_email, parse_text

from .samples import (
    HARO_TEXT,
    RECEIVED,
    haro_email,
    newsletter_email,
    qwoted_email,
    sourcebottle_email,
)


def test_haro_digest_is_split_into_its_queries_without_the_index():
    digest = parse_email(haro_email())
    assert digest.service == "haro"
    assert [q.title for q in digest.queries] == [
        "Trail running shoes for beginners",
        "Sleep habits of endurance athletes",
        "Small business budgeting apps",
    ]
    first = digest.queries[0]
    assert first.outlet == "Runner's Weekly"
    assert first.journalist == "Jane Doe"
    assert first.category == "Lifestyle and Fitness"
    assert first.contact_email == "query-a1b2@helpareporter.net"
    assert first.query_text == (
        "I'm writing about how beginners should choose their first pair of\n"
        "trail running shoes. What should they look for in grip and cushioning?"
    )
    assert first.requirements == "Running coaches or podiatrists only."
    # 7:00 PM EST on 12 March is midnight UTC on the 13th.
    assert first.deadline == datetime(2026, 3, 13, 0, 0, tzinfo=UTC)
    assert not first.unparsed


def test_qwoted_html_digest_is_split_and_keeps_the_pitch_link():
    digest = parse_email(qwoted_email())
    assert digest.service == "qwoted"
    assert [(q.title, q.journalist, q.outlet) for q in digest.queries] == [
        ("Looking for running coaches on marathon taper mistakes", "Alex Kim", "Outdoor Today"),
        ("Fintech founders on invoicing", "Priya Shah", "Money Matters"),
    ]
    taper = digest.queries[0]
    assert taper.link == "https://app.qwoted.com/opportunities/98765"
    assert "last three weeks before a marathon" in " ".join(taper.query_text.split())
    assert "View" not in taper.query_text
    assert taper.deadline == datetime(2026, 3, 14, 21, 0, tzinfo=UTC)  # 5 PM EDT
    assert "receiving this email" not in digest.queries[1].query_text


def test_sourcebottle_callout_with_an_australian_deadline():
    (callout,) = parse_email(sourcebottle_email()).queries
    assert callout.title == "Experts wanted on choosing hiking boots"
    assert callout.journalist == "Mia Chen"
    assert callout.outlet == "Trek Australia"
    assert callout.category == "Travel & Outdoors"
    assert callout.deadline == datetime(2026, 3, 15, 6, 0, tzinfo=UTC)  # 17:00 AEDT, day first


def test_an_email_in_no_known_layout_is_kept_whole():
    digest = parse_email(newsletter_email())
    (query,) = digest.queries
    assert query.unparsed
    assert query.title == "Stories wanted"
    assert "community sports clubs" in query.query_text
    assert query.deadline is None


def test_pasted_text_is_parsed_like_an_email():
    digest = parse_text(HARO_TEXT, received_at=RECEIVED)
    assert digest.service == "haro"
    assert len(digest.queries) == 3


def test_the_same_query_has_the_same_fingerprint_in_two_digests():
    one = parse_email(haro_email()).queries[0].fingerprint("haro")
    again = parse_email(haro_email()).queries[0].fingerprint("haro")
    other = parse_email(haro_email()).queries[1].fingerprint("haro")
    assert one == again != other


def test_html_without_a_plain_part_is_read_as_text():
    digest = parse_text(
        "<html><body><p>Summary: Need dentists</p><p>Query: What about flossing?</p></body></html>"
    )
    assert [(q.title, q.query_text) for q in digest.queries] == [
        ("Need dentists", "What about flossing?")
    ]


def test_an_empty_paste_gives_nothing():
    assert parse_text("   \n").queries == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7:00 PM EST - 12 March", datetime(2026, 3, 13, 0, 0, tzinfo=UTC)),
        ("Mar 14, 2026 5:00 PM EDT", datetime(2026, 3, 14, 21, 0, tzinfo=UTC)),
        ("2026-03-20 09:00 UTC", datetime(2026, 3, 20, 9, 0, tzinfo=UTC)),
        ("15/03/2026 17:00 AEDT", datetime(2026, 3, 15, 6, 0, tzinfo=UTC)),
        # No year: the next 5 January after the digest arrived, not the last one.
        ("5 January 3:00 PM PST", datetime(2027, 1, 5, 23, 0, tzinfo=UTC)),
        ("ASAP", None),
        ("", None),
    ],
)
def test_deadlines(text, expected):
    assert parse_deadline(text, RECEIVED) == expected
