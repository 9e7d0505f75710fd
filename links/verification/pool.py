"""Many fetches at once, fair to every site: the one thread pool of the verifier.

A site is a registrable domain (``a.example.com`` and ``b.example.com`` are one
site, ``x.blogspot.com`` and ``y.blogspot.com`` two): keyed by host name, a page
linking to a thousand made-up subdomains of one server would get a thousand
budgets. ``host_fair`` hands work out site by site in turn, never more at once
for one site than its limiter allows, so that a batch full of one site neither
hammers it nor leaves the threads waiting while other sites' work queues. Each
piece of work runs inside a slot of the limiter, which may be shared with other
processes (``links.hostlimit.RedisHostLimiter``) or only with this one
(``LocalHostLimiter``); both give up with ``HostBusy`` after a while instead of
waiting forever.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

from links.verification.urls import InvalidURL, domain_of, registrable_domain

T = TypeVar("T")
R = TypeVar("R")


class HostBusy(Exception):
    """No slot for this site freed up in time."""


class HostLimiter(Protocol):
    """At most ``limit`` requests at once to one site; ``slot`` raises HostBusy when
    none frees up in time."""

    @property
    def limit(self) -> int: ...

    def slot(self, host: str) -> AbstractContextManager[object]: ...


class LocalHostLimiter:
    """A HostLimiter for this process alone: a semaphore per site."""

    def __init__(self, *, limit: int, wait_seconds: float) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(self.limit)
        )

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        site = registrable_domain(host)
        with self._lock:
            semaphore = self._semaphores[site]
        if not semaphore.acquire(timeout=self.wait_seconds):
            raise HostBusy(f"{site}: {self.limit} requests already in flight")
        try:
            yield
        finally:
            semaphore.release()


# What a caller without a limiter of its own gets: the pool alone keeps it within
# this many per site, so its slots never wait.
DEFAULT_PER_SITE = 2


def site_of(url: str) -> str:
    """The site a URL's requests count against ("" for a URL that is no URL: the
    fetcher refuses it without a request)."""
    try:
        return domain_of(url)
    except InvalidURL:
        return ""


def host_fair(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    url_of: Callable[[T], str],
    limiter: HostLimiter | None = None,
    max_workers: int = 8,
    on_busy: Callable[[T, HostBusy], R] | None = None,
    thread_name_prefix: str = "anchorage-pool",
) -> Generator[tuple[T, R], None, None]:
    """Run ``work(item)`` for every item on a thread pool, each inside a slot of
    ``limiter`` for the site of ``url_of(item)``; yield (item, result) as each
    completes.

    When a slot cannot be had (HostBusy), ``on_busy(item, error)`` gives the
    item's result; without ``on_busy`` the error ends the iteration. Closing the
    iterator stops handing out work and waits only for the work in flight.
    """
    limiter = limiter or LocalHostLimiter(limit=DEFAULT_PER_SITE, wait_seconds=60.0)
    per_site = limiter.limit
    queues: dict[str, deque[T]] = {}
    for item in items:
        queues.setdefault(site_of(url_of(item)), deque()).append(item)
    ready: deque[str] = deque(queues)
    in_ready = set(queues)
    busy: dict[str, int] = {}
    running: dict[Future[R], tuple[T, str]] = {}

    def run(item: T, site: str) -> R:
        try:
            with limiter.slot(site):
                return work(item)
        except HostBusy as exc:
            if on_busy is None:
                raise
            return on_busy(item, exc)

    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    def fill() -> None:
        while ready and len(running) < max_workers:
            site = ready.popleft()
            in_ready.discard(site)
            item = queues[site].popleft()
            busy[site] = busy.get(site, 0) + 1
            running[pool.submit(run, item, site)] = (item, site)
            if queues[site] and busy[site] < per_site:
                ready.append(site)
                in_ready.add(site)

    try:
        fill()
        while running:
            done, _pending = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                item, site = running.pop(future)
                busy[site] -= 1
                if queues[site] and site not in in_ready:
                    ready.append(site)
                    in_ready.add(site)
                yield item, future.result()
            fill()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
