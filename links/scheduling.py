"""When a backlink is checked next: tiered by age and health, with jitter.

A new link is checked daily for its first week, then weekly, then monthly while
it stays live; a link whose state changed in the last week, or that is failing,
is checked daily until it settles. Jitter spreads a day's checks over the day
instead of bunching them at the minute they were first created.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MONTH = timedelta(days=30)
WEEKLY_UNTIL_AGE = timedelta(days=90)
JITTER = 0.10
MAX_ERROR_BACKOFF = DAY


def settled_interval(
    *, now: datetime, first_seen_at: datetime | None, state_changed_at: datetime | None
) -> timedelta:
    """The interval for a link that is live or nofollow."""
    age = now - first_seen_at if first_seen_at else timedelta(0)
    if age < WEEK or (state_changed_at and now - state_changed_at < WEEK):
        return DAY
    if age < WEEKLY_UNTIL_AGE:
        return WEEK
    return MONTH


def error_backoff(*, now: datetime, failing_since: datetime | None) -> timedelta:
    """1 h after the first failure, doubling, at most daily: a site that is down
    for an hour is not hammered, one down for days is still watched daily."""
    if failing_since is None:
        return timedelta(hours=1)
    failing_for = now - failing_since
    delay = timedelta(hours=1)
    while delay < failing_for and delay < MAX_ERROR_BACKOFF:
        delay *= 2
    return min(delay, MAX_ERROR_BACKOFF)


def with_jitter(interval: timedelta, rng: random.Random | None = None) -> timedelta:
    spread = (rng or random).uniform(-JITTER, JITTER)
    return interval * (1 + spread)
