"""LinkCheck.live_changed, kept by the database trigger of links/0002 whatever
inserts the row: True when a check moves its backlink between live and not
live, compared with the previous check that had a verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from links.models import LinkCheck, Verdict
from tests.factories import BacklinkFactory, LinkCheckFactory


def day(n: int) -> datetime:
    return datetime(2025, 1, n, 12, tzinfo=UTC)


def flags(backlink) -> list[tuple[int, str, bool]]:
    return [
        (c.checked_at.day, c.verdict, c.live_changed)
        for c in LinkCheck.objects.filter(backlink=backlink).order_by("checked_at", "pk")
    ]


def test_only_changes_of_live_state_are_flagged(db):
    backlink = BacklinkFactory()
    for n, verdict in [
        (1, Verdict.MISSING),  # not live, as before the first check: no change
        (2, Verdict.LIVE),
        (3, Verdict.LIVE),
        (4, Verdict.ERROR),  # proves nothing: never a change
        (5, Verdict.LIVE),  # still live after the error
        (6, Verdict.NOFOLLOW),
        (7, Verdict.MISSING),  # not live to not live
        (8, Verdict.LIVE),
    ]:
        LinkCheckFactory(backlink=backlink, checked_at=day(n), verdict=verdict)

    assert flags(backlink) == [
        (1, "missing", False),
        (2, "live", True),
        (3, "live", False),
        (4, "error", False),
        (5, "live", False),
        (6, "nofollow", True),
        (7, "missing", False),
        (8, "live", True),
    ]


def test_a_check_recorded_late_redecides_the_next_one(db):
    backlink = BacklinkFactory()
    LinkCheckFactory(backlink=backlink, checked_at=day(1), verdict=Verdict.LIVE)
    LinkCheckFactory(backlink=backlink, checked_at=day(3), verdict=Verdict.MISSING)

    LinkCheckFactory(backlink=backlink, checked_at=day(2), verdict=Verdict.MISSING)

    assert flags(backlink) == [(1, "live", True), (2, "missing", True), (3, "missing", False)]


def test_bulk_inserts_and_other_backlinks_are_handled_alike(db):
    first, second = BacklinkFactory(), BacklinkFactory()
    LinkCheck.objects.bulk_create(
        [
            LinkCheck(backlink=first, checked_at=day(1), verdict=Verdict.LIVE),
            LinkCheck(backlink=second, checked_at=day(1), verdict=Verdict.NOFOLLOW),
            LinkCheck(backlink=first, checked_at=day(2), verdict=Verdict.LIVE),
            LinkCheck(backlink=second, checked_at=day(2), verdict=Verdict.LIVE, live_changed=False),
        ]
    )

    assert flags(first) == [(1, "live", True), (2, "live", False)]
    assert flags(second) == [(1, "nofollow", False), (2, "live", True)]


def test_what_the_writer_says_is_ignored(db):
    backlink = BacklinkFactory()
    LinkCheckFactory(backlink=backlink, checked_at=day(1), verdict=Verdict.ERROR, live_changed=True)

    assert flags(backlink) == [(1, "error", False)]
