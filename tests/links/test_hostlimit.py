from __future__ import annotations

import threading
import time

import pytest
import redis
from django.conf import settings

from links.hostlimit import RedisHostLimiter
from links.verification.pool import HostBusy, LocalHostLimiter


@pytest.fixture
def client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    for key in client.scan_iter("test:host:*"):
        client.delete(key)


def most_at_once(limiter, host: str, workers: int = 8) -> int:
    current = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal current, peak
        with limiter.slot(host):
            with lock:
                current += 1
                peak = max(peak, current)
            time.sleep(0.05)
            with lock:
                current -= 1

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak


def test_redis_limiter_allows_two_at_once_per_host(client):
    # Two limiter objects stand for two worker processes sharing one Redis.
    first = RedisHostLimiter(client, limit=2, hold_seconds=10, wait_seconds=10, prefix="test:host:")
    second = RedisHostLimiter(
        client, limit=2, hold_seconds=10, wait_seconds=10, prefix="test:host:"
    )
    peak = 0
    current = 0
    lock = threading.Lock()

    def work(limiter) -> None:
        nonlocal current, peak
        with limiter.slot("blog.example"):
            with lock:
                current += 1
                peak = max(peak, current)
            time.sleep(0.05)
            with lock:
                current -= 1

    threads = [threading.Thread(target=work, args=(l,)) for l in [first, second] * 4]  # noqa: E741
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2
    assert first.holders("blog.example") == 0


def test_redis_limiter_frees_the_slot_of_a_holder_that_died(client):
    limiter = RedisHostLimiter(
        client, limit=1, hold_seconds=0.3, wait_seconds=2, prefix="test:host:"
    )
    dead = limiter.slot("down.example")
    dead.__enter__()  # a worker killed here never releases
    started = time.monotonic()
    with limiter.slot("down.example"):
        waited = time.monotonic() - started
    assert 0.2 < waited < 2


def test_redis_limiter_gives_up_with_a_clear_error(client):
    limiter = RedisHostLimiter(
        client, limit=1, hold_seconds=5, wait_seconds=0.2, prefix="test:host:"
    )
    with (
        limiter.slot("busy.example"),
        pytest.raises(HostBusy, match=r"busy\.example"),
        limiter.slot("busy.example"),
    ):
        pass


def test_hosts_do_not_share_slots(client):
    limiter = RedisHostLimiter(
        client, limit=1, hold_seconds=5, wait_seconds=0.2, prefix="test:host:"
    )
    with limiter.slot("a.example"), limiter.slot("b.example"):
        assert limiter.holders("a.example") == 1


def test_local_limiter_allows_two_at_once_per_host():
    assert most_at_once(LocalHostLimiter(limit=2, wait_seconds=5), "blog.example") == 2


# --- Per site, not per host ------------------------------------------------------


def test_two_subdomains_share_one_budget_across_workers(client):
    # Two limiter objects stand for two worker processes sharing one Redis.
    first = RedisHostLimiter(client, limit=1, hold_seconds=5, wait_seconds=0.2, prefix="test:host:")
    second = RedisHostLimiter(
        client, limit=1, hold_seconds=5, wait_seconds=0.2, prefix="test:host:"
    )
    with first.slot("a.example.com"):
        assert second.holders("b.example.com") == 1
        with (
            pytest.raises(HostBusy, match=r"example\.com: 1 requests"),
            second.slot("b.example.com"),
        ):
            pass
        with second.slot("www.example.co.uk"):  # another site entirely
            pass
    with second.slot("b.example.com"):  # freed once the first let go
        pass


def test_private_suffixes_are_separate_sites(client):
    limiter = RedisHostLimiter(
        client, limit=1, hold_seconds=5, wait_seconds=0.2, prefix="test:host:"
    )
    with limiter.slot("alice.blogspot.com"), limiter.slot("bob.blogspot.com"):
        assert limiter.holders("alice.blogspot.com") == 1


def test_local_limiter_counts_sites_too():
    limiter = LocalHostLimiter(limit=1, wait_seconds=0.2)
    with limiter.slot("a.example.com"):
        with pytest.raises(HostBusy, match=r"example\.com"), limiter.slot("b.example.com"):
            pass
        with limiter.slot("c.example.org"):
            pass


def test_a_render_holds_its_sites_slot_longer_than_a_fetch_and_counts_with_fetches():
    from links.checking import host_limiter, render_host_limiter
    from links.verification.render.engine import KILL_GRACE_SECONDS

    fetches, renders = host_limiter(), render_host_limiter()
    assert isinstance(renders, RedisHostLimiter)
    # Held for the raw fetch, the render and the kill grace: a hold that ran
    # out mid-render would let another worker take the site's slot.
    assert renders.hold_seconds >= (
        settings.VERIFIER_TIMEOUT_SECONDS + settings.RENDER_TIMEOUT_SECONDS + KILL_GRACE_SECONDS
    )
    assert renders.hold_seconds > fetches.hold_seconds
    # The same sites' slots: a render and the raw checks share the limit.
    site = f"render-{time.monotonic_ns()}.example"
    with renders.slot(site):
        assert fetches.holders(site) == 1
