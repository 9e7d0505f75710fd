"""``/healthz``: is this installation doing its job? ``/healthz/live``: is this
web process alive?

Answered by a middleware before host validation and the HTTPS redirect, so a
container healthcheck on 127.0.0.1 works without knowing the public host name.
Both answer JSON, 200 when every check passes and 503 when one fails:

- ``database``: a ``SELECT 1``.
- ``redis``: a PING, or "not configured" without REDIS_URL (``make run``).
- ``beat``: beat sent the dispatcher task within HEALTH_DISPATCH_MAX_AGE_SECONDS.
- ``dispatch``: the dispatcher (run by a worker on the ``celery`` queue)
  finished within HEALTH_DISPATCH_MAX_AGE_SECONDS.
- ``workers``: some worker consuming each of HEALTH_WORKER_QUEUES sent a
  heartbeat within HEALTH_WORKER_MAX_AGE_SECONDS.

The live mode checks the database only: a container must not be restarted
because a worker elsewhere is down.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

from config import heartbeats

log = logging.getLogger(__name__)

OK = "ok"
FAIL = "fail"
NOT_CONFIGURED = "not configured"
# A healthcheck that hangs is as bad as one that fails: Redis gets this long.
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    status: str
    detail: str = ""
    age_seconds: int | None = None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"status": self.status}
        if self.detail:
            data["detail"] = self.detail
        if self.age_seconds is not None:
            data["age_seconds"] = self.age_seconds
        return data


def _failed(summary: str, exc: BaseException) -> Check:
    # /healthz is public: the error's text (host names, addresses, user names)
    # goes to the log, the answer only says what failed.
    log.warning("healthcheck: %s: %s", summary, exc)
    return Check(FAIL, summary)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return _failed("database unavailable", exc)
    return Check(OK)


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )


def check_redis() -> Check:
    if not settings.REDIS_URL:
        return Check(NOT_CONFIGURED, "REDIS_URL is not set: the folder broker is in use")
    try:
        _redis_client(settings.REDIS_URL).ping()
    except (redis.RedisError, OSError) as exc:
        return _failed("redis unavailable", exc)
    return Check(OK)


def _age(at: float | None, now: float) -> int | None:
    return None if at is None else max(0, int(now - at))


def _recent(read: Callable[[], float | None], what: str, never: str, now: float | None) -> Check:
    now = time.time() if now is None else now
    try:
        age = _age(read(), now)
    except (redis.RedisError, OSError) as exc:
        return _failed("heartbeats unreadable (redis?)", exc)
    limit = settings.HEALTH_DISPATCH_MAX_AGE_SECONDS
    if age is None:
        return Check(FAIL, never)
    if age > limit:
        return Check(FAIL, f"{what} {age} s ago (limit {limit} s)", age)
    return Check(OK, age_seconds=age)


def check_beat(now: float | None = None) -> Check:
    return _recent(
        heartbeats.last_beat,
        "beat last sent the dispatcher",
        "beat never sent the dispatcher: is beat running?",
        now,
    )


def check_dispatch(now: float | None = None) -> Check:
    return _recent(
        heartbeats.last_dispatch,
        "the dispatcher last finished",
        "the dispatcher never finished: is a worker consuming the celery queue?",
        now,
    )


def check_workers(now: float | None = None) -> Check:
    now = time.time() if now is None else now
    try:
        beats = heartbeats.last_worker_beats(settings.HEALTH_WORKER_QUEUES)
    except (redis.RedisError, OSError) as exc:
        return _failed("heartbeats unreadable (redis?)", exc)
    limit = settings.HEALTH_WORKER_MAX_AGE_SECONDS
    ages = {queue: _age(at, now) for queue, at in beats.items()}
    silent = [queue for queue, age in ages.items() if age is None or age > limit]
    oldest = max((age for age in ages.values() if age is not None), default=None)
    if silent:
        names = ", ".join(silent)
        return Check(FAIL, f"no worker heartbeat within {limit} s on queue(s): {names}", oldest)
    return Check(OK, age_seconds=oldest)


def check_worker(hostname: str, now: float | None = None) -> Check:
    """One worker's own heartbeat (its container's healthcheck)."""
    now = time.time() if now is None else now
    try:
        age = _age(heartbeats.last_worker_beat(hostname), now)
    except (redis.RedisError, OSError) as exc:
        return _failed("heartbeats unreadable (redis?)", exc)
    limit = settings.HEALTH_WORKER_MAX_AGE_SECONDS
    if age is None or age > limit:
        return Check(FAIL, f"no heartbeat from {hostname} within {limit} s", age)
    return Check(OK, age_seconds=age)


CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "redis": check_redis,
    "beat": check_beat,
    "dispatch": check_dispatch,
    "workers": check_workers,
}
LIVE_CHECKS = {"database": check_database}


def run_checks(checks: dict[str, Callable[[], Check]]) -> tuple[bool, dict[str, object]]:
    results = {name: check() for name, check in checks.items()}
    failing = [name for name, result in results.items() if result.status == FAIL]
    report = {
        "status": FAIL if failing else OK,
        "failing": failing,
        "checks": {name: result.as_json() for name, result in results.items()},
    }
    return not failing, report


def health_response(checks: dict[str, Callable[[], Check]]) -> HttpResponse:
    healthy, report = run_checks(checks)
    response = HttpResponse(
        json.dumps(report), status=200 if healthy else 503, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return health_response(CHECKS)
        if request.path == "/healthz/live":
            return health_response(LIVE_CHECKS)
        return self.get_response(request)
