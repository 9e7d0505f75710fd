"""registrable_domain: the site a host belongs to, by the bundled Public Suffix List."""

from __future__ import annotations

import threading
import time

import pytest

from links.verification.pool import LocalHostLimiter
from links.verification.urls import registrable_domain


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("example.com", "example.com"),
        ("www.example.com", "example.com"),
        ("a.b.c.example.com", "example.com"),
        ("WWW.Example.COM.", "example.com"),
        # Multi-label public suffixes (ICANN section).
        ("shop.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("news.example.com.au", "example.com.au"),
        # Private suffixes: every blog and every Pages site is a site of its own.
        ("alice.blogspot.com", "alice.blogspot.com"),
        ("www.alice.blogspot.com", "alice.blogspot.com"),
        ("bob.github.io", "bob.github.io"),
        ("docs.bob.github.io", "bob.github.io"),
        # Internationalized names, in IDNA form and as typed.
        ("www.xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("www.пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("shop.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("Bücher.example.de", "example.de"),
        # Addresses and single labels are their own site.
        ("127.0.0.1", "127.0.0.1"),
        ("203.0.113.7", "203.0.113.7"),
        ("::1", "::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("localhost", "localhost"),
        # A bare public suffix has no registrable part: it stands for itself.
        ("co.uk", "co.uk"),
        ("blogspot.com", "blogspot.com"),
    ],
)
def test_registrable_domain(host: str, site: str) -> None:
    assert registrable_domain(host) == site


def test_in_process_limiter_counts_subdomains_as_one_site() -> None:
    limiter = LocalHostLimiter(limit=1, wait_seconds=5)
    entered = threading.Event()
    with limiter.slot("a.example.com"):

        def other() -> None:
            with limiter.slot("b.example.com"):
                entered.set()

        thread = threading.Thread(target=other)
        thread.start()
        # The other subdomain waits for the slot the first one holds.
        assert not entered.wait(0.2)
        with limiter.slot("a.example.org"):  # a different site does not wait
            pass
    assert entered.wait(5)
    thread.join()


def test_registrable_domain_is_cheap_on_a_long_name() -> None:
    host = ".".join(["a"] * 120) + ".example.co.uk"
    started = time.monotonic()
    assert registrable_domain(host) == "example.co.uk"
    assert time.monotonic() - started < 0.5
