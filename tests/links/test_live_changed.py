"""LinkCheck.live_changed, kept by the database trigger of links/0004 whatever
inserts the row: True when a check moves its backlink between live and not
live, compared with the previous check that had a verdict."""

from __future__ import annotations

import importlib
import sqlite3
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


def test_the_sqlite_trigger_follows_the_same_rule():
    """`make run` uses SQLite, which gets its own trigger; the suite runs on
    PostgreSQL, so exercise the SQLite one directly on an in-memory database."""
    migration = importlib.import_module("links.migrations.0004_linkcheck_live_changed")
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE links_linkcheck (id INTEGER PRIMARY KEY, backlink_id INTEGER, "
        "checked_at TEXT, verdict TEXT, live_changed BOOL NOT NULL DEFAULT 0)"
    )
    db.execute(migration.SQLITE_INSTALL)
    rows = [
        (1, "2025-01-01 12:00:00", "missing"),
        (1, "2025-01-02 12:00:00", "live"),
        (1, "2025-01-04 12:00:00", "error"),
        (1, "2025-01-05 12:00:00", "live"),
        (1, "2025-01-07 12:00:00", "missing"),
        (2, "2025-01-01 12:00:00", "live"),
        (1, "2025-01-06 12:00:00", "nofollow"),  # late: makes the 7th no change
    ]
    db.executemany(
        "INSERT INTO links_linkcheck (backlink_id, checked_at, verdict) VALUES (?, ?, ?)", rows
    )

    flagged = db.execute(
        "SELECT backlink_id, substr(checked_at, 9, 2), verdict, live_changed "
        "FROM links_linkcheck ORDER BY backlink_id, checked_at"
    ).fetchall()
    assert flagged == [
        (1, "01", "missing", 0),
        (1, "02", "live", 1),
        (1, "04", "error", 0),
        (1, "05", "live", 0),
        (1, "06", "nofollow", 1),
        (1, "07", "missing", 0),
        (2, "01", "live", 1),
    ]
