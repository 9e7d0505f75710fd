from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from links import scheduling

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_new_links_are_checked_daily_for_a_week():
    assert scheduling.settled_interval(
        now=NOW, first_seen_at=NOW - timedelta(days=3), state_changed_at=None
    ) == timedelta(days=1)


def test_links_older_than_a_week_are_checked_weekly():
    assert scheduling.settled_interval(
        now=NOW, first_seen_at=NOW - timedelta(days=20), state_changed_at=None
    ) == timedelta(days=7)


def test_long_lived_links_are_checked_monthly():
    assert scheduling.settled_interval(
        now=NOW, first_seen_at=NOW - timedelta(days=200), state_changed_at=None
    ) == timedelta(days=30)


def test_a_recently_changed_link_is_checked_daily_whatever_its_age():
    assert scheduling.settled_interval(
        now=NOW, first_seen_at=NOW - timedelta(days=200), state_changed_at=NOW - timedelta(days=2)
    ) == timedelta(days=1)


def test_error_backoff_doubles_up_to_a_day():
    delays = [
        scheduling.error_backoff(now=NOW, failing_since=NOW - timedelta(hours=h))
        for h in (0, 1.5, 3, 30, 100)
    ]
    assert delays == [
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=4),
        timedelta(days=1),
        timedelta(days=1),
    ]


def test_jitter_stays_within_ten_percent_and_spreads():
    rng = random.Random(1)
    values = {scheduling.with_jitter(timedelta(days=1), rng) for _ in range(50)}
    assert all(timedelta(hours=21.6) <= v <= timedelta(hours=26.4) for v in values)
    assert len(values) > 40
