from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from links.verification.urls import (
    InvalidURL,
    Target,
    domain_of,
    find_links,
    host_of,
    normalize_url,
    resolve_href,
    url_key,
)

PAGE = "https://publisher.example/blog/post"
TARGET = Target.page("https://ours.example/guide/seo")


def matched(target: Target, href: str, *, page: str = PAGE, base: str | None = None) -> bool:
    return bool(find_links(target, [href], page_url=page, base_href=base).exact)


# -- normalize_url / url_key / domain_of --------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#frag", "https://example.com/a"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://bücher.de/", "https://xn--bcher-kva.de/"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/😀", "https://example.com/%F0%9F%98%80"),
        ("https://[::1]:8443/a", "https://[::1]:8443/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["", "ftp://example.com/", "javascript:alert(1)", "https:///path", "https://exa mple.com/"],
)
def test_normalize_url_refuses(url: str) -> None:
    with pytest.raises(InvalidURL):
        normalize_url(url)


def test_normalize_url_refuses_a_port_out_of_range() -> None:
    with pytest.raises(InvalidURL):
        normalize_url("https://example.com:99999/")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://www.x.com/a/", "https://x.com/a"),
        ("https://X.com/a", "https://x.com/a"),
        ("https://x.com:443/a", "https://x.com/a"),
        ("https://x.com/a#top", "https://x.com/a"),
        ("https://x.com/%7Euser", "https://x.com/~user"),
        ("https://x.com/a%3a", "https://x.com/a%3A"),
    ],
)
def test_url_key_equates(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.com/A", "https://x.com/a"),
        ("https://x.com/a?x=1", "https://x.com/a?x=2"),
        ("https://x.com:8080/a", "https://x.com/a"),
        ("https://blog.x.com/a", "https://x.com/a"),
        ("https://x.com/a%2Fb", "https://x.com/a/b"),
    ],
)
def test_url_key_distinguishes(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_domain_of_drops_www_and_port() -> None:
    assert domain_of("https://WWW.Example.com:8443/x") == "example.com"


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://m.example.com/a", "example.com"),
        ("https://blog.example.co.uk/a", "example.co.uk"),
        ("https://www.example.co.uk/", "example.co.uk"),
        ("https://news.shop.example.com.au/x", "example.com.au"),
        # Private suffixes: each blog and each Pages site is a site.
        ("https://alice.blogspot.com/2024/post.html", "alice.blogspot.com"),
        ("https://www.alice.blogspot.com/", "alice.blogspot.com"),
        ("https://bob.github.io/project/", "bob.github.io"),
        ("https://docs.bob.github.io/", "bob.github.io"),
        # IDN, as IDNA or as typed.
        ("https://blog.xn--e1afmkfd.xn--p1ai/", "xn--e1afmkfd.xn--p1ai"),
        ("https://www.пример.рф/страница", "xn--e1afmkfd.xn--p1ai"),
        ("https://shop.Bücher.de/", "xn--bcher-kva.de"),
        # Addresses are their own site.
        ("http://203.0.113.7:8080/links", "203.0.113.7"),
        ("http://[2001:db8::1]/links", "2001:db8::1"),
        ("http://localhost:8000/", "localhost"),
    ],
)
def test_domain_of_is_the_registrable_domain(url: str, site: str) -> None:
    assert domain_of(url) == site


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.Blog.Example.co.uk:8443/x", "blog.example.co.uk"),
        ("https://m.example.com/a", "m.example.com"),
        ("https://alice.blogspot.com/", "alice.blogspot.com"),
        ("https://www.пример.рф/", "xn--e1afmkfd.xn--p1ai"),
        ("http://[2001:db8::1]/", "2001:db8::1"),
    ],
)
def test_host_of_keeps_the_host(url: str, host: str) -> None:
    assert host_of(url) == host


def test_domain_of_refuses_what_is_not_a_url() -> None:
    with pytest.raises(InvalidURL):
        domain_of("mailto:jo@example.com")


def test_a_domain_target_is_its_host_not_its_site() -> None:
    # "Any link to ours.example.co.uk" does not take in links to the blog.
    target = Target.domain("www.ours.example.co.uk")
    assert target.host == "ours.example.co.uk"
    assert matched(target, "https://www.ours.example.co.uk/any/page")
    assert not matched(target, "https://blog.ours.example.co.uk/any/page")
    assert not matched(target, "https://example.co.uk/")


# -- matching: every normalization rule ----------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "https://ours.example/guide/seo",
        "http://ours.example/guide/seo",  # scheme
        "https://www.ours.example/guide/seo",  # leading www.
        "https://OURS.Example/guide/seo",  # host case
        "HTTPS://OURS.EXAMPLE/guide/seo",  # scheme case
        "https://ours.example:443/guide/seo",  # default port
        "http://ours.example:80/guide/seo",  # default port, http
        "https://ours.example/guide/seo#pricing",  # fragment
        "https://ours.example/guide/seo/",  # trailing slash
        "https://ours.example/guide/%73eo",  # escaped unreserved letter
        "https://ours.example/guide/seo?utm_source=blog&utm_medium=link",  # analytics only
        "//ours.example/guide/seo",  # scheme-relative
        "  https://ours.example/guide/seo\n",  # whitespace around
        "https://ours.example/gu\nide/seo",  # newline inside, dropped by browsers
        "https:\\\\ours.example\\guide\\seo",  # backslashes are slashes
        "https://ours.example/guide/./old/../seo",  # dot segments
        "https://ours.example./guide/seo",  # trailing dot on the host
    ],
)
def test_matches(href: str) -> None:
    assert matched(TARGET, href)


@pytest.mark.parametrize(
    "href",
    [
        "https://ours.example/guide/seo-tips",
        "https://ours.example/guide",
        "https://ours.example/Guide/seo",  # paths are case-sensitive
        "https://ours.example:8443/guide/seo",  # another port is another server
        "https://blog.ours.example/guide/seo",  # another sub-domain
        "https://notours.example/guide/seo",
        "https://ours.example.evil.test/guide/seo",
        "https://evil.test/?u=https://ours.example/guide/seo",
        "https://ours.example/guide/seo?page=2",  # a real query is another page
        "javascript:location='https://ours.example/guide/seo'",
        "mailto:seo@ours.example",
        "ftp://ours.example/guide/seo",
        "/guide/seo",  # relative to the publisher's own site
    ],
)
def test_does_not_match(href: str) -> None:
    assert not matched(TARGET, href)


def test_percent_encoding_case_is_ignored() -> None:
    target = Target.page("https://ours.example/caf%c3%a9")
    assert matched(target, "https://ours.example/caf%C3%A9")
    assert matched(target, "https://ours.example/café")


def test_target_with_a_query_matches_the_same_query() -> None:
    target = Target.page("https://ours.example/p?id=5")
    assert matched(target, "https://www.ours.example/p?id=5")
    assert not matched(target, "https://ours.example/p?id=6")


def test_idna_target_matches_unicode_and_ascii_hrefs() -> None:
    target = Target.page("https://bücher.example/kaufen")
    assert matched(target, "https://BÜCHER.example/kaufen")
    assert matched(target, "https://xn--bcher-kva.example/kaufen")


def test_host_hidden_by_percent_escape_still_matches() -> None:
    # Browsers decode escapes in a host; the pre-filter must not skip it.
    assert matched(TARGET, "https://%6Furs.example/guide/seo")


def test_fullwidth_host_still_matches() -> None:
    fullwidth = "".join(chr(0xFF00 + ord(c) - 0x20) for c in "ours")
    assert matched(TARGET, f"https://{fullwidth}.example/guide/seo")


# -- relative hrefs, base href, final URL -------------------------------------------------


def test_relative_href_resolves_against_the_page_on_our_host() -> None:
    assert matched(TARGET, "seo", page="https://ours.example/guide/index")
    assert matched(TARGET, "/guide/seo", page="https://www.ours.example/news")
    assert matched(TARGET, "../guide/seo", page="https://ours.example/blog/x")


def test_relative_href_resolves_against_base_href() -> None:
    assert matched(TARGET, "seo", base="https://ours.example/guide/")
    assert not matched(TARGET, "seo", base="https://ours.example/other/")


def test_relative_base_href_resolves_against_the_page() -> None:
    page = "https://ours.example/blog/post"
    assert matched(TARGET, "seo", page=page, base="/guide/")


def test_base_href_elsewhere_moves_relative_links_off_our_host() -> None:
    page = "https://ours.example/guide/index"
    assert not matched(TARGET, "seo", page=page, base="https://cdn.example/")


def test_unusable_base_href_falls_back_to_the_page() -> None:
    page = "https://ours.example/guide/index"
    assert matched(TARGET, "seo", page=page, base="javascript:void(0)")


def test_fragment_only_href_is_the_page_itself() -> None:
    assert matched(TARGET, "#section", page="https://ours.example/guide/seo")


# -- domain targets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "https://ours.example/",
        "https://ours.example",
        "http://www.ours.example/any/page?x=1",
        "https://OURS.example:8443/other",
        "//ours.example/x#y",
    ],
)
def test_domain_target_matches_any_page(href: str) -> None:
    assert matched(Target.domain("ours.example"), href)


@pytest.mark.parametrize(
    "href",
    ["https://shop.ours.example/", "https://ours.example.evil.test/", "https://notours.example/"],
)
def test_domain_target_is_only_that_host(href: str) -> None:
    assert not matched(Target.domain("https://www.ours.example/"), href)


def test_domain_target_from_a_url_keeps_the_host() -> None:
    target = Target.domain("https://www.Ours.example/some/page")
    assert target.host == "ours.example"
    assert target.is_domain


def test_same_site_links_are_reported_for_a_page_target() -> None:
    matches = find_links(
        TARGET,
        ["https://ours.example/", "https://ours.example/guide/seo", "https://x.test/"],
        page_url=PAGE,
    )
    assert [index for index, _ in matches.exact] == [1]
    assert matches.same_site == [(0, "https://ours.example/")]


def test_resolve_href_refuses_other_schemes() -> None:
    assert resolve_href("javascript:void(0)", PAGE) is None
    assert resolve_href("data:text/html,hi", PAGE) is None


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://WWW.Example.COM:443/a/../b/?utm=1#frag",
        "http://example.com:8080",
        "https://bücher.example/straße?q=ä b",
        "https://www.x.co.uk/a/%7euser/",
        "http://[2001:db8::1]:80/p",
        "https://example.com/./a/./b/../c?x=%2f",
    ],
)
def test_normalize_with_key_is_the_three_functions_in_one(url):
    from links.verification.urls import normalize_with_key

    assert normalize_with_key(url) == (normalize_url(url), host_of(url), url_key(url))


def test_normalize_with_key_refuses_what_normalize_url_refuses():
    from links.verification.urls import normalize_with_key

    for bad in ["ftp://x.example/", "https://", "https://exa mple.com/"]:
        with pytest.raises(InvalidURL):
            normalize_with_key(bad)


# Pieces of URLs, plain and not: what the shortcut must take, and what it must
# leave to the full parse (case, escapes, ports, user-info, IDNA, dot segments).
# fmt: off
_URL_PIECES = st.sampled_from([
    "http://", "https://", "HTTPS://", "ftp://", "//", "www.", "WWW.", "x", "Z", "0", "-", ".",
    "..", "/", "./", "../", "?", "&", "=", "#", "%", "%7e", "%2F", "%zz", ":", ":443", ":80",
    ":99999", "@", "[", "]", "[::1]", "\\", "^", "`", "{", "|", "}", "<", "~", "'", "!", "$",
    "*", "+", ",", ";", "_", "é", "ß", "co.uk", "example", "blogspot.com", " ", "\t",
    "\uff58", "\u200b", "\x00", "\x7f", "a" * 63, "b" * 64,
])
# fmt: on


@settings(max_examples=3000, deadline=None)
@given(
    scheme=st.sampled_from(["http://", "https://", "HTTP://", "mailto:", ""]),
    rest=st.lists(_URL_PIECES, max_size=12).map("".join),
)
def test_normalize_with_key_plain_shortcut_agrees_with_the_full_parse(scheme, rest):
    from links.verification.urls import _normalize_with_key_parsed, normalize_with_key

    url = scheme + rest
    try:
        expected = _normalize_with_key_parsed(url)
    except InvalidURL:
        with pytest.raises(InvalidURL):
            normalize_with_key(url)
        return
    assert normalize_with_key(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://www.site1.example/blog/post-1/",
        "http://x.example",
        "https://x.example/?",
        "https://x.example/a/./b/../c/?q=1?x=/y",
        "https://a.b.c.example/p;x=1/(a)/*,+!$'~@:[]",
        "https://www.example/",
        "https://www/",
        "http://127.0.0.1/a",
        f"https://{'a' * 63}.example/",
    ],
)
def test_plain_urls_take_the_shortcut_and_agree(url):
    from links.verification.urls import _PLAIN, _normalize_with_key_parsed, normalize_with_key

    assert _PLAIN.fullmatch(url)
    assert normalize_with_key(url) == _normalize_with_key_parsed(url)
