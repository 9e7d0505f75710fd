"""When beat last sent the dispatcher, when the dispatcher (run by a worker)
last finished, and when a worker last showed it was alive on each queue:
timestamps in a cache every process shares (Redis when REDIS_URL is set, a
folder under VAR_DIR on ``make run``'s one box). /healthz and /metrics read them.

Workers write their own heartbeat instead of answering a ``control.ping`` per
healthcheck: a ping is a broadcast every worker must answer, and the caller
waits its whole timeout whenever one worker is slow or absent, every 15 s from
every web process; reading one key costs a millisecond and works on the
filesystem broker too, which has no broadcast at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.core.cache import caches

CACHE = "heartbeats"
DISPATCH = "dispatch"
BEAT = "beat"
DISPATCH_TASK = "links.tasks.dispatch_due_checks"
# Keys outlive any threshold anyone would set; they only go stale.
_KEEP_SECONDS = 7 * 24 * 3600


def _queue_key(queue: str) -> str:
    return f"heartbeat:queue:{queue}"


def _worker_key(hostname: str) -> str:
    return f"heartbeat:worker:{hostname}"


def record_dispatch(at: float | None = None) -> None:
    caches[CACHE].set(f"heartbeat:{DISPATCH}", time.time() if at is None else at, _KEEP_SECONDS)


def last_dispatch() -> float | None:
    return caches[CACHE].get(f"heartbeat:{DISPATCH}")


def record_beat(at: float | None = None) -> None:
    caches[CACHE].set(f"heartbeat:{BEAT}", time.time() if at is None else at, _KEEP_SECONDS)


def last_beat() -> float | None:
    return caches[CACHE].get(f"heartbeat:{BEAT}")


def record_worker(*, hostname: str, queues: Iterable[str], at: float | None = None) -> None:
    now = time.time() if at is None else at
    values = {_queue_key(queue): now for queue in queues}
    values[_worker_key(hostname)] = now
    caches[CACHE].set_many(values, _KEEP_SECONDS)


def last_worker_beats(queues: Iterable[str]) -> dict[str, float | None]:
    """The latest heartbeat of any worker consuming each queue."""
    names = list(queues)
    found = caches[CACHE].get_many([_queue_key(queue) for queue in names])
    return {queue: found.get(_queue_key(queue)) for queue in names}


def last_worker_beat(hostname: str) -> float | None:
    return caches[CACHE].get(_worker_key(hostname))
