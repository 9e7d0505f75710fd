from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from links.verification.fetch import FetchConfig, Fetcher
from links.verification.pool import HostBusy, LocalHostLimiter
from links.verification.verdict import Check, Verdict, verify, verify_many
from tests.support.site import RequestHandler, TestSite

TARGET = "https://ours.example/guide"
BODY = f'<html><body><a href="{TARGET}">Our guide</a></body></html>'.encode()


class InFlight:
    """Counts concurrent requests per Host header, as the server sees them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.peak_total = 0

    def handler(self, delay: float) -> object:
        def handle(handler: RequestHandler) -> None:
            host = (handler.headers.get("Host") or "").split(":")[0]
            with self.lock:
                self.now[host] = self.now.get(host, 0) + 1
                self.peak[host] = max(self.peak.get(host, 0), self.now[host])
                self.peak_total = max(self.peak_total, sum(self.now.values()))
            time.sleep(delay)
            with self.lock:
                self.now[host] -= 1
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(BODY)))
            handler.end_headers()
            handler.wfile.write(BODY)

        return handle


def named_fetcher(site: TestSite) -> Fetcher:
    # Several "hosts" that all live on the one test server.
    return Fetcher(
        FetchConfig(
            allow_private_networks=True,
            timeout=10.0,
            resolver=lambda host, port: ["127.0.0.1"],
        )
    )


class RecordingLimiter:
    """A HostLimiter that lets everything through and notes the sites it was asked for."""

    limit = 2

    def __init__(self) -> None:
        self.sites: list[str] = []

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        self.sites.append(host)
        yield


def test_verify_many_returns_every_check_with_its_key(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/post", BODY)
    checks = [Check(site.url("/post"), TARGET, key=index) for index in range(6)]
    results = {check.key: result for check, result in verify_many(checks, fetcher=fetcher)}
    assert sorted(results) == list(range(6))
    assert all(result.verdict == Verdict.LIVE for result in results.values())


def test_at_most_two_requests_per_host_at_once(site: TestSite) -> None:
    flight = InFlight()
    site.route("/post", handler=flight.handler(0.15))  # type: ignore[arg-type]
    fetcher = named_fetcher(site)
    checks = [
        Check(f"http://{host}:{site.port}/post", TARGET, key=(host, index))
        for index in range(6)
        for host in ("a.test", "b.test", "c.test")
    ]
    limiter = LocalHostLimiter(limit=2, wait_seconds=10)
    results = list(verify_many(checks, fetcher=fetcher, max_workers=8, limiter=limiter))
    assert len(results) == 18
    assert all(result.verdict == Verdict.LIVE for _check, result in results)
    assert max(flight.peak.values()) <= 2
    # Hosts were checked side by side, not one after another.
    assert flight.peak_total > 2


def test_the_limit_holds_across_separate_callers(site: TestSite) -> None:
    flight = InFlight()
    site.route("/post", handler=flight.handler(0.1))  # type: ignore[arg-type]
    fetcher = named_fetcher(site)
    limiter = LocalHostLimiter(limit=2, wait_seconds=10)

    def one() -> None:
        # Separate pools, as separate tasks of one worker process run them.
        check = Check(f"http://same.test:{site.port}/post", TARGET)
        list(verify_many([check], fetcher=fetcher, limiter=limiter))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert flight.peak["same.test"] <= 2


def test_a_slot_is_held_around_each_check(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/post", BODY)
    limiter = RecordingLimiter()
    checks = [Check(site.url("/post"), TARGET) for _ in range(3)]
    list(verify_many(checks, fetcher=fetcher, limiter=limiter))
    assert limiter.sites == ["127.0.0.1"] * 3


def test_the_limiter_sees_the_site_without_www(site: TestSite) -> None:
    site.route("/post", BODY)
    limiter = RecordingLimiter()
    check = Check(f"http://www.pub.test:{site.port}/post", TARGET)
    list(verify_many([check], fetcher=named_fetcher(site), limiter=limiter))
    assert limiter.sites == ["pub.test"]


def test_a_busy_site_stops_the_batch_without_a_request(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/post", BODY)
    limiter = LocalHostLimiter(limit=1, wait_seconds=0.1)
    with limiter.slot("127.0.0.1"), pytest.raises(HostBusy, match=r"127\.0\.0\.1"):
        list(verify_many([Check(site.url("/post"), TARGET)], fetcher=fetcher, limiter=limiter))
    assert site.hit_count == 0


def test_the_local_limiter_turns_the_third_holder_away_in_time() -> None:
    limiter = LocalHostLimiter(limit=2, wait_seconds=0.1)
    with limiter.slot("x.test"), limiter.slot("x.test"):
        started = time.monotonic()
        with pytest.raises(HostBusy, match=r"x\.test: 2 requests"), limiter.slot("x.test"):
            pass
        assert time.monotonic() - started < 2
        with limiter.slot("y.test"):  # other sites are not held up
            pass
    with limiter.slot("x.test"):  # freed on the way out
        pass


def test_the_local_limiter_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LocalHostLimiter(limit=0, wait_seconds=1)


def test_errors_come_back_as_results(site: TestSite, fetcher: Fetcher) -> None:
    checks = [Check("not a url", TARGET, key="bad"), Check(site.url("/gone"), TARGET, key="404")]
    results = {check.key: result for check, result in verify_many(checks, fetcher=fetcher)}
    assert results["bad"].error_kind == "invalid_url"
    assert results["404"].error_kind == "gone"


def _verify_in_child(url: str, slow_url: str, results: Any) -> None:
    config = FetchConfig(allow_private_networks=True, timeout=0.5)
    results.put(str(verify(url, TARGET, config=config).verdict))
    started = time.monotonic()
    outcome = verify(slow_url, TARGET, config=config)
    results.put((outcome.error_kind, time.monotonic() - started))


def test_a_forked_worker_starts_afresh(site: TestSite) -> None:
    # The parent fetches first, so the watchdog thread and the shared fetcher
    # exist before the fork, as in a Celery prefork pool warmed up by a check.
    site.route("/post", BODY)
    site.route("/slow", handler=lambda handler: time.sleep(2))
    config = FetchConfig(allow_private_networks=True, timeout=0.5)
    assert verify(site.url("/slow"), TARGET, config=config).error_kind == "timeout"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(
        target=_verify_in_child, args=(site.url("/post"), site.url("/slow"), results)
    )
    child.start()
    try:
        assert results.get(timeout=10) == "live"
        kind, elapsed = results.get(timeout=10)
        assert kind == "timeout"
        assert elapsed < 1.5
    finally:
        child.join(timeout=5)
