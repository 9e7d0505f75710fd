"""The broken-link finder's engine against real servers on loopback: a resource
page whose links lead to live, dead, slow, failing and unresolvable pages."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from links.verification.fetch import FetchConfig, Fetcher
from links.verification.outbound import (
    LinkOutcome,
    check_link,
    check_links,
    extract_outbound,
    outbound_links,
    refusal_reason,
)
from links.verification.parse import parse_html
from links.verification.pool import LocalHostLimiter
from tests.support.site import RequestHandler, TestSite


def resolver(host: str, port: int) -> list[str]:
    # gone.test stands for a domain that has expired: its lookup fails, as a
    # real NXDOMAIN would. Every other name in .test is this machine.
    if host == "gone.test" or not host.endswith(".test"):
        raise OSError(f"Name or service not known: {host}")
    return ["127.0.0.1"]


def loopback_fetcher(timeout: float) -> Fetcher:
    return Fetcher(FetchConfig(timeout=timeout, allow_private_networks=True, resolver=resolver))


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    # A whole check may take several requests (HEAD, GET, redirects): 1 s for
    # all of them ran out on a loaded 2-core machine and made a 404 "maybe dead".
    instance = loopback_fetcher(timeout=5.0)
    yield instance
    instance.close()


@pytest.fixture
def elsewhere() -> Iterator[TestSite]:
    """The linked-to pages, on another loopback address: another host."""
    server = TestSite(address="127.0.3.1")
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def slow(seconds: float):
    def handler(request: RequestHandler) -> None:
        time.sleep(seconds)
        request.send_response(200)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def test_live_links_are_ok_with_one_head(elsewhere: TestSite, fetcher: Fetcher) -> None:
    url = elsewhere.page("/alive", "<html>hello</html>")
    status = check_link(url, fetcher=fetcher)
    assert status.outcome == LinkOutcome.OK
    assert status.method == "HEAD"
    assert elsewhere.methods == [("HEAD", "/alive")]


@pytest.mark.parametrize("code", [404, 410])
def test_404_and_410_are_dead_after_a_confirming_get(
    elsewhere: TestSite, fetcher: Fetcher, code: int
) -> None:
    url = elsewhere.route("/gone", "<html>gone</html>", status=code)
    status = check_link(url, fetcher=fetcher)
    assert status.outcome == LinkOutcome.DEAD
    assert status.status == code
    assert status.reason == f"answered {code}"
    assert [m for m, _ in elsewhere.methods] == ["HEAD", "GET"]


def test_head_refused_falls_back_to_get(elsewhere: TestSite, fetcher: Fetcher) -> None:
    url = elsewhere.page("/no-head", "<html>fine</html>", head=False)
    status = check_link(url, fetcher=fetcher)
    assert status.outcome == LinkOutcome.OK
    assert status.method == "GET"
    assert elsewhere.methods == [("HEAD", "/no-head"), ("GET", "/no-head")]


def test_a_404_only_to_head_is_not_dead(elsewhere: TestSite, fetcher: Fetcher) -> None:
    def head_404(request: RequestHandler) -> None:
        request.send_response(404 if request.command == "HEAD" else 200)
        request.send_header("Content-Length", "0")
        request.end_headers()

    url = elsewhere.route("/odd", handler=head_404)
    assert check_link(url, fetcher=fetcher).outcome == LinkOutcome.OK


def test_redirects_are_followed_to_the_end(elsewhere: TestSite, fetcher: Fetcher) -> None:
    elsewhere.redirect("/moved", "/moved-again", status=301)
    elsewhere.redirect("/moved-again", "/missing", status=302)
    status = check_link(elsewhere.url("/moved"), fetcher=fetcher)
    assert status.outcome == LinkOutcome.DEAD
    assert status.final_url == elsewhere.url("/missing")


def test_unresolvable_host_is_dead(fetcher: Fetcher) -> None:
    status = check_link("http://gone.test/guide", fetcher=fetcher)
    assert status.outcome == LinkOutcome.DEAD
    assert status.error_kind == "dns"
    assert "no such host" in status.reason


def test_connection_refused_is_dead(fetcher: Fetcher) -> None:
    status = check_link(f"http://127.0.3.1:{closed_port()}/", fetcher=fetcher)
    assert status.outcome == LinkOutcome.DEAD
    assert status.reason == "connection refused"


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors_are_maybe_dead(elsewhere: TestSite, fetcher: Fetcher, code: int) -> None:
    url = elsewhere.route("/flaky", "<html>oops</html>", status=code)
    assert check_link(url, fetcher=fetcher).outcome == LinkOutcome.MAYBE_DEAD


def test_timeouts_are_maybe_dead(elsewhere: TestSite) -> None:
    url = elsewhere.route("/slow", handler=slow(3))
    fetcher = loopback_fetcher(timeout=1.0)
    started = time.monotonic()
    status = check_link(url, fetcher=fetcher)
    fetcher.close()
    assert status.outcome == LinkOutcome.MAYBE_DEAD
    assert status.error_kind == "timeout"
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("code", [401, 403, 429])
def test_bot_walls_are_not_dead(elsewhere: TestSite, fetcher: Fetcher, code: int) -> None:
    url = elsewhere.route("/wall", "<html>no bots</html>", status=code)
    assert check_link(url, fetcher=fetcher).outcome == LinkOutcome.OK


def test_robots_txt_is_respected(elsewhere: TestSite, fetcher: Fetcher) -> None:
    elsewhere.route(
        "/robots.txt",
        "User-agent: AnchorageBot\nDisallow: /private/\n",
        headers=[("Content-Type", "text/plain")],
    )
    url = elsewhere.route("/private/page", status=404)
    status = check_link(url, fetcher=fetcher, robots_agent="AnchorageBot")
    assert status.outcome == LinkOutcome.UNKNOWN
    assert "disallows" in status.reason
    assert elsewhere.hits_for("/private/page") == 0


def test_private_addresses_are_not_checked_without_permission(elsewhere: TestSite) -> None:
    url = elsewhere.route("/x", status=404)
    guarded = Fetcher(FetchConfig(timeout=1.0))
    status = check_link(url, fetcher=guarded)
    assert status.outcome == LinkOutcome.UNKNOWN
    assert "127.0.3.1" in status.reason
    assert elsewhere.hit_count == 0


def test_check_links_never_sends_more_than_two_at_once_to_a_host(
    elsewhere: TestSite, fetcher: Fetcher
) -> None:
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def counted(request: RequestHandler) -> None:
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.05)
        with lock:
            active["now"] -= 1
        request.send_response(200)
        request.send_header("Content-Length", "0")
        request.end_headers()

    for n in range(20):
        elsewhere.route(f"/p{n}", handler=counted)
    urls = [elsewhere.url(f"/p{n}") for n in range(20)]
    limiter = LocalHostLimiter(limit=2, wait_seconds=10)
    results = list(check_links(urls, fetcher=fetcher, limiter=limiter, max_workers=10))
    assert sorted(r.url for r in results) == sorted(urls)
    assert {r.outcome for r in results} == {LinkOutcome.OK}
    assert active["max"] == 2


def test_closing_check_links_stops_handing_out_links(elsewhere: TestSite, fetcher: Fetcher) -> None:
    for n in range(30):
        elsewhere.route(f"/s{n}", handler=slow(0.1))
    results = check_links(
        [elsewhere.url(f"/s{n}") for n in range(30)], fetcher=fetcher, max_workers=2
    )
    next(results)
    results.close()
    assert elsewhere.hit_count <= 4


def test_a_link_whose_site_stays_busy_is_left_unjudged(
    elsewhere: TestSite, fetcher: Fetcher
) -> None:
    url = elsewhere.route("/gone", status=404)
    limiter = LocalHostLimiter(limit=1, wait_seconds=0.1)
    with limiter.slot("127.0.3.1"):  # another scan holds the site's only slot
        (status,) = check_links([url], fetcher=fetcher, limiter=limiter)
    assert status.outcome == LinkOutcome.UNKNOWN
    assert status.reason.startswith("not checked: 127.0.3.1")
    assert elsewhere.hit_count == 0


# -- extracting a page's outbound links -------------------------------------------------------


PAGE = """<html><head><base href="https://resources.example/list/"></head><body>
<h1>Running resources</h1>
<p>Before a race, read <a href="https://old-blog.example/trail-shoe-guide">this trail shoe
guide</a> by a coach. It is short.</p>
<ul><li>Our own <a href="/about">about page</a></li>
<li><a href="https://www.resources.example/contact">contact</a></li>
<li><a href="mailto:x@y.example">mail</a> and <a href="javascript:void(0)">js</a></li>
<li><img src="x.png"><a href="https://tools.example/pace"><img alt="Pace calculator"></a></li>
<li>Again: <a href="https://old-blog.example/trail-shoe-guide#top">guide</a></li>
<li><a href="https://tools.example/pace">Pace calculator for runners</a> helps.</li>
</ul></body></html>"""


def test_outbound_links_exclude_the_site_itself_and_non_web_links() -> None:
    page = parse_html(PAGE.encode())
    links = extract_outbound(page, "https://resources.example/list/")
    assert [link.url for link in links] == [
        "https://old-blog.example/trail-shoe-guide",
        "https://tools.example/pace",
    ]


def test_links_to_the_pages_own_site_on_another_subdomain_are_not_outbound() -> None:
    page = parse_html(
        b"""<p><a href="https://shop.runclub.co.uk/x">shop</a>
        <a href="https://runclub.co.uk/">home</a>
        <a href="https://other.co.uk/guide">guide</a>
        <a href="https://alice.blogspot.com/a">alice</a>
        <a href="https://bob.blogspot.com/b">bob</a></p>"""
    )
    assert [link.url for link in extract_outbound(page, "https://blog.runclub.co.uk/links")] == [
        "https://other.co.uk/guide",
        "https://alice.blogspot.com/a",
        "https://bob.blogspot.com/b",
    ]
    # On blogspot.com, another blog is another site.
    assert [link.url for link in extract_outbound(page, "https://alice.blogspot.com/list")] == [
        "https://shop.runclub.co.uk/x",
        "https://runclub.co.uk/",
        "https://other.co.uk/guide",
        "https://bob.blogspot.com/b",
    ]


def test_outbound_link_keeps_its_anchor_text_and_sentence() -> None:
    page = parse_html(PAGE.encode())
    guide = extract_outbound(page, "https://resources.example/list/")[0]
    assert guide.anchor_text == "this trail shoe guide"
    assert guide.context == "Before a race, read this trail shoe guide by a coach."


def test_image_link_alt_is_its_text() -> None:
    page = parse_html(PAGE.encode())
    pace = extract_outbound(page, "https://resources.example/list/")[1]
    assert pace.anchor_text == "Pace calculator"


def test_outbound_links_of_a_fetched_page(
    site: TestSite, elsewhere: TestSite, fetcher: Fetcher
) -> None:
    target = elsewhere.url("/a")
    url = site.page("/resources", f'<html><body><p>See <a href="{target}">A</a>.</p></body></html>')
    result = outbound_links(url, fetcher=fetcher)
    assert result.ok
    assert [(link.url, link.anchor_text, link.context) for link in result.links] == [
        (target, "A", "See A.")
    ]


def test_a_resource_page_that_fails_says_why(site: TestSite, fetcher: Fetcher) -> None:
    result = outbound_links(site.url("/nothing-here"), fetcher=fetcher)
    assert not result.ok
    assert result.status == 404


# -- hostile input refused before any lookup ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://files.example/list", "not ftp:"),
        ("javascript:alert(1)", "not javascript:"),
        ("http://127.0.0.1/admin", "not a public internet address"),
        ("http://10.0.0.5/", "not a public internet address"),
        ("http://169.254.169.254/latest/meta-data/", "not a public internet address"),
        ("http://[::1]:8000/", "not a public internet address"),
        ("http://0x7f.1/", "not a public internet address"),
        ("http://localhost:8000/", "local network"),
        ("http://printer.local/", "local network"),
        ("http://example.com:25/", "port 25"),
        ("http://exa mple.com/", ""),
    ],
)
def test_hostile_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    refused = refusal_reason(url)
    assert refused is not None
    assert reason in refused


def test_public_urls_pass_the_precheck() -> None:
    assert refusal_reason("https://blog.example/resources") is None
    assert refusal_reason("http://127.0.0.1/", allow_private_networks=True) is None
