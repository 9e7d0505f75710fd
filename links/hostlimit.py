"""At most N requests at once to one site, across every worker: the HostLimiter
that the verifier's host-fair pool (links.verification.pool) is given.

Callers pass the host they connect to; the limiter counts its site (registrable
domain). Each site is a sorted set of holders in Redis, scored by when their
hold expires: a worker killed while holding a slot frees it when the hold
expires instead of blocking that site forever. Without Redis (``make run``'s one
box), and while Redis is down, the pool's LocalHostLimiter does the same job in
this process. Both give up with HostBusy instead of waiting forever.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis

from links.verification.pool import HostBusy, LocalHostLimiter
from links.verification.urls import registrable_domain

# Acquire atomically: drop expired holders, then take a slot if one is free.
_ACQUIRE = """
local key, token = KEYS[1], ARGV[4]
local now, limit, expires = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, expires, token)
  redis.call('PEXPIRE', key, math.ceil((expires - now) * 1000))
  return 1
end
return 0
"""


log = logging.getLogger(__name__)


class RedisHostLimiter:
    def __init__(
        self,
        client: redis.Redis,
        *,
        limit: int,
        hold_seconds: float,
        wait_seconds: float,
        prefix: str = "anchorage:site:",
    ) -> None:
        self.client = client
        self.limit = limit
        self.hold_seconds = hold_seconds
        self.wait_seconds = wait_seconds
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        # If Redis is down, checks go on with this process's own limit rather
        # than failing: politeness per process beats no checks at all.
        self.fallback = LocalHostLimiter(limit=limit, wait_seconds=wait_seconds)

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        site = registrable_domain(host)
        key = f"{self.prefix}{site}"
        token = uuid.uuid4().hex
        try:
            self._wait_for_slot(site, key, token)
        except redis.RedisError as exc:
            log.warning("host limit: Redis unavailable (%s); limiting per process", exc)
            with self.fallback.slot(host):
                yield
            return
        try:
            yield
        finally:
            with suppress(redis.RedisError):  # the hold expires by itself
                self.client.zrem(key, token)

    def _wait_for_slot(self, site: str, key: str, token: str) -> None:
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.02
        while True:
            now = time.time()
            if self._acquire(keys=[key], args=[now, self.limit, now + self.hold_seconds, token]):
                return
            if time.monotonic() > deadline:
                raise HostBusy(f"{site}: {self.limit} requests already in flight")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def holders(self, host: str) -> int:
        key = f"{self.prefix}{registrable_domain(host)}"
        self.client.zremrangebyscore(key, "-inf", time.time())
        return int(self.client.zcard(key))
