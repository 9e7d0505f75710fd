"""HEAD requests: the same guard as GET (checked, pinned, every redirect hop
judged again), no body read, redirects followed with HEAD."""

from __future__ import annotations

import pytest

from links.verification.fetch import ErrorKind, FetchConfig, Fetcher
from tests.support.site import SocketLog, TestSite

from .conftest import only


def test_head_reports_the_status_without_a_body(site: TestSite, fetcher: Fetcher) -> None:
    url = site.page("/page", "<html><body>" + "x" * 200_000 + "</body></html>")
    result = fetcher.head(url)
    assert result.ok, result.error
    assert result.status == 200
    assert result.body == b""
    assert result.bytes_read == 0
    assert site.methods == [("HEAD", "/page")]


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_head_error_statuses(site: TestSite, fetcher: Fetcher, status: int) -> None:
    url = site.route("/gone", "<html>gone</html>", status=status)
    result = fetcher.head(url)
    assert result.status == status
    assert result.error_kind == ErrorKind.HTTP_STATUS


def test_a_server_refusing_head_answers_405(site: TestSite, fetcher: Fetcher) -> None:
    url = site.page("/no-head", "<html>ok</html>", head=False)
    result = fetcher.head(url)
    assert result.status == 405
    assert fetcher.fetch(url).status == 200


def test_head_follows_redirects_with_head(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/old", "/mid", status=301)
    site.redirect("/mid", "/new", status=303)
    site.page("/new", "<html>ok</html>")
    result = fetcher.head(site.url("/old"))
    assert result.status == 200
    assert result.final_url == site.url("/new")
    assert [r.status for r in result.redirects] == [301, 303]
    assert site.methods == [("HEAD", "/old"), ("HEAD", "/mid"), ("HEAD", "/new")]


def test_head_to_loopback_is_refused_by_default(site: TestSite, sockets: SocketLog) -> None:
    site.page("/page", "<html>ok</html>")
    fetcher = Fetcher(FetchConfig(timeout=3.0))
    result = fetcher.head(site.url("/page"))
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS
    assert site.hit_count == 0
    assert sockets.connects == []


def test_head_redirect_to_a_refused_address_is_not_followed(
    site: TestSite, other_site: TestSite
) -> None:
    other_site.page("/inside", "<html>secret</html>")
    site.redirect("/out", other_site.url("/inside"))
    fetcher = Fetcher(FetchConfig(timeout=3.0, allow_private_networks=True,
                                  address_allowed=only(site)))  # fmt: skip
    result = fetcher.head(site.url("/out"))
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS
    assert other_site.hit_count == 0


def test_head_of_a_name_that_does_not_resolve_is_a_dns_error(site: TestSite) -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError(f"no such name: {host}")

    fetcher = Fetcher(FetchConfig(timeout=3.0, allow_private_networks=True, resolver=resolver))
    result = fetcher.head("http://gone.test/page")
    assert result.error_kind == ErrorKind.DNS


def test_only_get_and_head_are_sent(fetcher: Fetcher) -> None:
    with pytest.raises(ValueError, match="GET and HEAD"):
        fetcher.fetch("http://127.0.0.1/", method="POST")


def test_keep_alive_survives_a_head(site: TestSite, fetcher: Fetcher, sockets: SocketLog) -> None:
    url = site.page("/page", "<html>" + "y" * 100_000 + "</html>")
    assert fetcher.head(url).status == 200
    assert fetcher.head(url).status == 200
    assert fetcher.fetch(url).status == 200
    assert len(sockets.connects) == 1
