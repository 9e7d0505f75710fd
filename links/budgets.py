"""Budgets a member cannot exceed: how often they may ask the server to reach out.

A budget is "at most ``limit`` uses per ``window`` seconds" under one key (a user,
a backlink...). With Redis the count is shared by every web process and worker,
as a sorted set of use times trimmed to the window, so a refused request also
knows when the oldest use leaves the window and can say when to try again.
Without Redis (``make run``'s one box) the same count lives in this process;
with Redis down, the same, rather than refusing every request.

Budgets that rows can count (scans running, the last re-check of one link) are
counted in the database where those rows are, not here.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.commands.core import Script

log = logging.getLogger(__name__)

# Drop uses older than the window; take one if fewer than the limit remain.
# Returns 0 when taken, else the milliseconds until the oldest use expires.
_SPEND = """
local key, token = KEYS[1], ARGV[4]
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, token)
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.max(1, math.ceil((tonumber(oldest[2]) + window - now) * 1000))
"""

PREFIX = "anchorage:budget:"


class OverBudget(Exception):
    """A budget is spent. ``str()`` is the sentence shown to the member."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Spent:
    """A refused use: when (in seconds) the budget has room again."""

    retry_after: int


class _LocalCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uses: dict[str, deque[float]] = defaultdict(deque)

    def spend(self, key: str, *, limit: int, window: float) -> Spent | None:
        now = time.time()
        with self._lock:
            uses = self._uses[key]
            while uses and uses[0] <= now - window:
                uses.popleft()
            if len(uses) < limit:
                uses.append(now)
                return None
            return Spent(max(1, math.ceil(uses[0] + window - now)))

    def clear(self) -> None:
        with self._lock:
            self._uses.clear()


_local = _LocalCounter()


@cache
def _spend_script(redis_url: str) -> Script:
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    return client.register_script(_SPEND)


def spend(key: str, *, limit: int, window: float) -> Spent | None:
    """Use one unit of the budget ``key``; None when there was room, else how
    long until there is. A limit below 1 means no budget at all."""
    if limit < 1:
        return None
    if settings.REDIS_URL:
        try:
            waited_ms = _spend_script(settings.REDIS_URL)(
                keys=[PREFIX + key], args=[time.time(), window, limit, uuid.uuid4().hex]
            )
        except redis.RedisError as exc:
            log.warning("budget %s: Redis unavailable (%s); counting in this process", key, exc)
        else:
            return None if not waited_ms else Spent(max(1, math.ceil(int(waited_ms) / 1000)))
    return _local.spend(key, limit=limit, window=window)


def in_words(seconds: int) -> str:
    """'40 seconds', '1 minute', '12 minutes' for a retry sentence."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- The budgets ----------------------------------------------------------------


def _spend_hourly(key: str, limit: int, spent: str, again: str) -> None:
    """One of a member's requests of the hour that make the server reach out
    for them; OverBudget, saying when the next one is allowed, once spent."""
    refused = spend(key, limit=limit, window=3600)
    if refused is not None:
        raise OverBudget(
            f"You have {spent} {limit} {again} in the last hour, the most allowed. "
            f"You can ask again in {in_words(refused.retry_after)}.",
            retry_after=refused.retry_after,
        )


def spend_recheck(user_id: int) -> None:
    """One of the member's re-checks of the hour ("re-check now" and "re-check
    the dead link" alike: each is a request the server makes for them)."""
    limit = settings.RECHECK_PER_USER_PER_HOUR
    _spend_hourly(f"recheck:user:{user_id}", limit, "asked for", "re-checks")


def spend_alert_test(user_id: int) -> None:
    """One of the user's "Send test" presses of the hour (each one is a request
    to their Slack, Teams or webhook endpoint)."""
    limit = settings.ALERT_TEST_SENDS_PER_USER_PER_HOUR
    _spend_hourly(f"alert-test:user:{user_id}", limit, "sent", "test messages")


def link_rechecked_recently(seconds_ago: float) -> OverBudget:
    """The refusal of a second re-check of one link within the interval."""
    interval = settings.RECHECK_LINK_INTERVAL_SECONDS
    wait = max(1, math.ceil(interval - seconds_ago))
    return OverBudget(
        f"A check of this link was asked for {in_words(max(1, int(seconds_ago)))} ago; one "
        f"link can be re-checked once every {in_words(interval)}. "
        f"Try again in {in_words(wait)}.",
        retry_after=wait,
    )


# --- How a refusal is answered -----------------------------------------------------


def refusal_page(request: HttpRequest, exc: OverBudget, *, back: str) -> HttpResponse:
    """A whole page for a refused form post: 429, the sentence, a way back."""
    response = render(
        request, "over_budget.html", {"message": exc.message, "back": back}, status=429
    )
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response
