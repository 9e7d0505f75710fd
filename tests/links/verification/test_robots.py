from __future__ import annotations

import time

import pytest

from links.verification.fetch import FetchConfig, Fetcher
from tests.support.site import TestSite

ROBOTS = """\
User-agent: *
Disallow: /

User-agent: Googlebot
Disallow: /private/
Allow: /private/press/
Disallow: /*.php$
Disallow: /*?sessionid=
Disallow: /tmp
Allow: /tmp/public$
"""


@pytest.fixture
def robots_site(site: TestSite) -> TestSite:
    site.route("/robots.txt", ROBOTS, headers=[("Content-Type", "text/plain")])
    return site


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/blog/post", True),
        ("/private/x", False),
        ("/private/press/release", True),  # the longer Allow wins
        ("/index.php", False),  # "$" anchors the end
        ("/index.php?x=1", True),
        ("/index.phpx", True),
        ("/page?sessionid=42", False),  # "*" matches anything
        ("/a/b?x=1&sessionid=42", True),
        ("/tmp", False),
        ("/tmpfile", False),  # rules are prefixes
        ("/tmp/public", True),
        ("/tmp/public/more", False),
    ],
)
def test_googlebot_rules(robots_site: TestSite, fetcher: Fetcher, path: str, allowed: bool) -> None:
    assert fetcher.robots(robots_site.url(path)).allowed is allowed


def test_other_agents_follow_their_own_group(robots_site: TestSite, fetcher: Fetcher) -> None:
    assert fetcher.robots(robots_site.url("/blog/post"), user_agent="SomeBot").allowed is False


def test_robots_txt_is_cached_per_host(robots_site: TestSite, fetcher: Fetcher) -> None:
    fetcher.robots(robots_site.url("/a"))
    fetcher.robots(robots_site.url("/private/b"))
    fetcher.robots(robots_site.url("/c"))
    assert robots_site.hits_for("/robots.txt") == 1


def test_robots_txt_cache_expires(robots_site: TestSite) -> None:
    fetcher = Fetcher(FetchConfig(allow_private_networks=True, robots_ttl=0.05))
    fetcher.robots(robots_site.url("/a"))
    time.sleep(0.1)
    fetcher.robots(robots_site.url("/a"))
    assert robots_site.hits_for("/robots.txt") == 2


def test_missing_robots_txt_allows_all(site: TestSite, fetcher: Fetcher) -> None:
    result = fetcher.robots(site.url("/anything"))
    assert result.allowed
    assert result.status == 404
    assert result.note is None


def test_robots_txt_answering_html_allows_all(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/robots.txt", "<!DOCTYPE html><html><body>Disallow: /</body></html>")
    result = fetcher.robots(site.url("/anything"))
    assert result.allowed
    assert "HTML" in (result.note or "")


def test_robots_txt_html_without_a_content_type_allows_all(
    site: TestSite, fetcher: Fetcher
) -> None:
    body = "<html><head><title>Home</title></head><body>User-agent: *\nDisallow: /</body></html>"
    site.route("/robots.txt", body, headers=[("Content-Type", "text/plain")])
    assert fetcher.robots(site.url("/anything")).allowed


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_txt_server_error_allows_all_with_a_note(
    site: TestSite, fetcher: Fetcher, status: int
) -> None:
    site.route("/robots.txt", "User-agent: *\nDisallow: /", status=status)
    result = fetcher.robots(site.url("/anything"))
    assert result.allowed
    assert str(status) in (result.note or "")


def test_robots_txt_unreachable_allows_all_with_a_note() -> None:
    fetcher = Fetcher(FetchConfig(timeout=2.0))
    result = fetcher.robots("http://10.0.0.1/page")
    assert result.allowed
    assert "not read" in (result.note or "")


def test_robots_txt_behind_a_redirect(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/robots.txt", "/real-robots.txt")
    plain = [("Content-Type", "text/plain")]
    site.route("/real-robots.txt", "User-agent: *\nDisallow: /x", headers=plain)
    assert fetcher.robots(site.url("/x")).allowed is False


def test_empty_robots_txt_allows_all(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/robots.txt", "", headers=[("Content-Type", "text/plain")])
    assert fetcher.robots(site.url("/anything")).allowed
