from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest

from links.verification.fetch import FetchConfig, Fetcher
from links.verification.urls import Target
from links.verification.verdict import Verdict, VerificationResult, verify
from tests.support.site import RequestHandler, TestSite

TARGET = "https://ours.example/guide"
LINK = f'<a href="{TARGET}">Our guide</a>'


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body><p>Intro.</p>{body}</body></html>"


def check(
    site: TestSite,
    fetcher: Fetcher,
    html: str,
    *,
    target: Target | str = TARGET,
    headers: list[tuple[str, str]] | None = None,
    status: int = 200,
    **kwargs: Any,
) -> VerificationResult:
    url = site.route("/post", html, status=status, headers=headers)
    return verify(url, target, fetcher=fetcher, **kwargs)


# -- live and nofollow by rel ---------------------------------------------------------------


def test_live(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(LINK))
    assert result.verdict == Verdict.LIVE
    assert result.http_status == 200
    assert [(a.href, a.text, a.rel, a.dofollow) for a in result.anchors] == [
        (TARGET, "Our guide", (), True)
    ]
    assert result.differences == ()
    assert result.error is None


@pytest.mark.parametrize(
    "rel",
    [
        "nofollow",
        "ugc",
        "sponsored",
        "NOFOLLOW",
        "Sponsored",
        "noopener nofollow",
        "ugc\n sponsored",
        "  nofollow  ",
    ],
)
def test_rel_that_passes_no_value(site: TestSite, fetcher: Fetcher, rel: str) -> None:
    result = check(site, fetcher, page(f'<a href="{TARGET}" rel="{rel}">x</a>'))
    assert result.verdict == Verdict.NOFOLLOW
    assert result.anchors[0].dofollow is False


@pytest.mark.parametrize(
    "rel", ["noopener", "noreferrer", "noopener noreferrer", "external", "", "follow"]
)
def test_rel_that_still_passes_value(site: TestSite, fetcher: Fetcher, rel: str) -> None:
    result = check(site, fetcher, page(f'<a href="{TARGET}" rel="{rel}">x</a>'))
    assert result.verdict == Verdict.LIVE


def test_one_passing_anchor_is_enough(site: TestSite, fetcher: Fetcher) -> None:
    html = page(f'<a href="{TARGET}" rel="nofollow">a</a><a href="{TARGET}/">b</a>')
    result = check(site, fetcher, html)
    assert result.verdict == Verdict.LIVE
    assert [a.dofollow for a in result.anchors] == [False, True]
    assert 'rel="nofollow"' not in result.snippet  # the evidence is the passing anchor


def test_all_anchors_nofollow(site: TestSite, fetcher: Fetcher) -> None:
    html = page(f'<a href="{TARGET}" rel="nofollow">a</a><a href="{TARGET}" rel="ugc">b</a>')
    assert check(site, fetcher, html).verdict == Verdict.NOFOLLOW


# -- page-level nofollow and noindex -----------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        '<meta name="robots" content="nofollow">',
        '<meta name="ROBOTS" content="index, NoFollow">',
        '<meta name="robots" content="none">',
        '<meta name="googlebot" content="nofollow">',
        '<meta name="googlebot" content="none">',
    ],
)
def test_page_level_nofollow_in_meta(site: TestSite, fetcher: Fetcher, head: str) -> None:
    result = check(site, fetcher, page(LINK, head))
    assert result.verdict == Verdict.NOFOLLOW
    assert result.anchors[0].dofollow is False


@pytest.mark.parametrize(
    "value", ["nofollow", "noindex, nofollow", "none", "googlebot: nofollow", "GoogleBot: none"]
)
def test_page_level_nofollow_in_x_robots_tag(site: TestSite, fetcher: Fetcher, value: str) -> None:
    result = check(site, fetcher, page(LINK), headers=[("X-Robots-Tag", value)])
    assert result.verdict == Verdict.NOFOLLOW


@pytest.mark.parametrize(
    ("head", "headers"),
    [
        ('<meta name="bingbot" content="nofollow">', []),
        ('<meta name="googlebot-news" content="nofollow">', []),
        ("", [("X-Robots-Tag", "otherbot: nofollow")]),
        ("", [("X-Robots-Tag", "bingbot: noindex, nofollow")]),
    ],
)
def test_other_bots_rules_do_not_apply(
    site: TestSite, fetcher: Fetcher, head: str, headers: list[tuple[str, str]]
) -> None:
    result = check(site, fetcher, page(LINK, head), headers=headers)
    assert result.verdict == Verdict.LIVE
    assert result.flags.noindex is False


@pytest.mark.parametrize(
    ("head", "headers"),
    [
        ('<meta name="robots" content="noindex">', []),
        ('<meta name="googlebot" content="noindex, follow">', []),
        ('<meta name="robots" content="none">', []),
        ("", [("X-Robots-Tag", "noindex")]),
        ("", [("X-Robots-Tag", "googlebot: noindex")]),
        ("", [("X-Robots-Tag", "otherbot: nofollow"), ("X-Robots-Tag", "noindex")]),
    ],
)
def test_noindex_flag(
    site: TestSite, fetcher: Fetcher, head: str, headers: list[tuple[str, str]]
) -> None:
    assert check(site, fetcher, page(LINK, head), headers=headers).flags.noindex is True


def test_noindex_alone_keeps_the_link_live(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(LINK, '<meta name="robots" content="noindex">'))
    assert result.verdict == Verdict.LIVE


# -- missing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<p>No links at all.</p>",
        f"<!-- {LINK} -->",
        f'<link rel="alternate" href="{TARGET}">',
        f"<a href=\"javascript:window.location='{TARGET}'\">guide</a>",
        f"<script>document.write('{LINK}')</script>",
        f'<a data-href="{TARGET}">guide</a>',
        '<a href="https://ours.example.evil.test/guide">guide</a>',
    ],
)
def test_missing(site: TestSite, fetcher: Fetcher, body: str) -> None:
    result = check(site, fetcher, page(body))
    assert result.verdict == Verdict.MISSING
    assert result.anchors == ()


def test_link_to_another_page_of_ours_is_a_wrong_target(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page('<a href="https://www.ours.example/pricing">Pricing</a>'))
    assert result.verdict == Verdict.MISSING
    [difference] = result.differences
    assert difference.kind == "target"
    assert difference.expected == TARGET
    assert difference.found == ("https://www.ours.example/pricing",)
    assert "Pricing" in result.snippet


# -- matching on the page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "http://www.OURS.example:80/guide/#top",
        "//ours.example/guide",
        "https://ours.example/gu%69de",
    ],
)
def test_normalized_variants_are_live(site: TestSite, fetcher: Fetcher, href: str) -> None:
    result = check(site, fetcher, page(f'<a href="{href}">x</a>'))
    assert result.verdict == Verdict.LIVE
    assert result.anchors[0].href == href


def test_relative_link_resolved_with_base_href(site: TestSite, fetcher: Fetcher) -> None:
    html = page('<a href="guide">x</a>', '<base href="https://ours.example/">')
    assert check(site, fetcher, html).verdict == Verdict.LIVE


def test_relative_link_without_base_is_the_publishers(site: TestSite, fetcher: Fetcher) -> None:
    assert check(site, fetcher, page('<a href="/guide">x</a>')).verdict == Verdict.MISSING


def test_relative_link_on_the_targets_own_host(site: TestSite, fetcher: Fetcher) -> None:
    target = site.url("/guide")
    result = check(site, fetcher, page('<a href="guide">x</a>'), target=target)
    assert result.verdict == Verdict.LIVE


def test_image_link(site: TestSite, fetcher: Fetcher) -> None:
    html = page(f'<a href="{TARGET}"><img src="/b.png" alt="Our Brand"></a>')
    result = check(site, fetcher, html, expected_anchor_text="our brand")
    assert result.anchors[0].text == "Our Brand"
    assert result.differences == ()


def test_domain_target(site: TestSite, fetcher: Fetcher) -> None:
    html = page('<a href="https://www.ours.example/anything?x=1">x</a><a href="/local">y</a>')
    result = check(site, fetcher, html, target=Target.domain("ours.example"))
    assert result.verdict == Verdict.LIVE
    assert [a.href for a in result.anchors] == ["https://www.ours.example/anything?x=1"]


def test_domain_target_misses_other_sub_domains(site: TestSite, fetcher: Fetcher) -> None:
    html = page('<a href="https://shop.ours.example/">x</a>')
    result = check(site, fetcher, html, target=Target.domain("ours.example"))
    assert result.verdict == Verdict.MISSING
    assert result.differences == ()


def test_sixty_thousand_anchors_over_http(site: TestSite, fetcher: Fetcher) -> None:
    body = "".join(f'<a href="https://other{i % 50}.test/{i}">{i}</a>' for i in range(60_000))
    # CPU time: the bound is on the work, not on what else shares the cores.
    started = time.process_time()
    result = check(site, fetcher, page(body + LINK))
    assert result.verdict == Verdict.LIVE
    assert time.process_time() - started < 5


def test_deep_page_over_http(site: TestSite, fetcher: Fetcher) -> None:
    body = "<div>" * 40_000 + "deep" + "</div>" * 40_000 + LINK
    assert check(site, fetcher, page(body)).verdict == Verdict.LIVE


# -- placement and kind of the matching anchors ----------------------------------------------------


def test_placement_and_kind_of_each_matching_anchor(site: TestSite, fetcher: Fetcher) -> None:
    html = page(
        f'<article><div class="entry-content"><p>Read {LINK}.</p></div></article>'
        f'<aside id="secondary" class="widget-area"><a href="{TARGET}" rel="sponsored">'
        '<img src="/b.png" alt="Our banner"></a></aside>'
        f'<footer id="colophon"><a href="{TARGET}" rel="nofollow ugc">Partner</a></footer>',
        head='<link rel="stylesheet" href="/s.css">',
    )
    result = check(site, fetcher, html)
    assert [(a.text, a.rel, a.kind, a.placement) for a in result.anchors] == [
        ("Our guide", (), "text", "content"),
        ("Our banner", ("sponsored",), "image", "sidebar"),
        ("Partner", ("nofollow", "ugc"), "text", "footer"),
    ]
    assert [a["placement"] for a in result.to_json()["anchors"]] == [
        "content",
        "sidebar",
        "footer",
    ]


def test_only_matching_anchors_are_placed(site: TestSite, fetcher: Fetcher) -> None:
    # The navigation links elsewhere; the link to the target is in the content.
    html = page(f'<nav><a href="/a">A</a><a href="/b">B</a></nav><main><p>{LINK}</p></main>')
    result = check(site, fetcher, html)
    assert [(a.href, a.placement) for a in result.anchors] == [(TARGET, "content")]


def test_too_deep_page_has_no_placement_but_a_kind(site: TestSite, fetcher: Fetcher) -> None:
    # The tokenizer that reads pages too deep for a tree knows no ancestors: the
    # placement is not known (null), never guessed; the kind it can still tell.
    body = (
        "<footer>"
        + "<div>" * 40_000
        + "</div>" * 40_000
        + f'{LINK}<a href="{TARGET}"><img src="/x.png" alt="logo"></a></footer>'
    )
    result = check(site, fetcher, page(body))
    assert result.verdict == Verdict.LIVE
    assert [(a.kind, a.placement) for a in result.anchors] == [("text", None), ("image", None)]
    assert result.to_json()["anchors"][0]["placement"] is None


# -- differences from what was agreed ---------------------------------------------------------


def test_wrong_anchor_text(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(LINK), expected_anchor_text="best SEO guide")
    assert result.verdict == Verdict.LIVE
    [difference] = result.differences
    assert (difference.kind, difference.expected, difference.found) == (
        "anchor_text",
        "best SEO guide",
        ("Our guide",),
    )


def test_anchor_text_compares_case_and_whitespace_insensitively(
    site: TestSite, fetcher: Fetcher
) -> None:
    result = check(site, fetcher, page(LINK), expected_anchor_text="  our   GUIDE ")
    assert result.differences == ()


def test_wrong_rel(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(f'<a href="{TARGET}" rel="sponsored">Our guide</a>'))
    [difference] = result.differences
    assert (difference.kind, difference.expected, difference.found) == (
        "rel",
        "dofollow",
        ("sponsored",),
    )


def test_wrong_rel_from_the_page_level(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(LINK), headers=[("X-Robots-Tag", "googlebot: nofollow")])
    assert [d.kind for d in result.differences] == ["rel"]
    assert "X-Robots-Tag: nofollow" in result.differences[0].found


def test_agreed_nofollow_is_no_difference(site: TestSite, fetcher: Fetcher) -> None:
    html = page(f'<a href="{TARGET}" rel="sponsored">Our guide</a>')
    result = check(site, fetcher, html, expected_dofollow=False)
    assert result.verdict == Verdict.NOFOLLOW
    assert result.differences == ()


# -- legacy charsets end to end ---------------------------------------------------------------


def test_windows_1251_anchor_text_from_the_header(site: TestSite, fetcher: Fetcher) -> None:
    html = page(f'<a href="{TARGET}">Купить слона</a>').encode("windows-1251")
    url = site.route("/ru", html, headers=[("Content-Type", "text/html; charset=windows-1251")])
    result = verify(url, TARGET, fetcher=fetcher, expected_anchor_text="купить слона")
    assert result.anchors[0].text == "Купить слона"
    assert result.differences == ()


def test_shift_jis_anchor_text_from_meta(site: TestSite, fetcher: Fetcher) -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
    html = page(f'<a href="{TARGET}">日本語のガイド</a>', head).encode("shift_jis")
    url = site.route("/ja", html, headers=[("Content-Type", "text/html")])
    assert verify(url, TARGET, fetcher=fetcher).anchors[0].text == "日本語のガイド"


def test_gzip_page(site: TestSite, fetcher: Fetcher) -> None:
    import gzip

    url = site.route(
        "/gz", gzip.compress(page(LINK).encode()), headers=[("Content-Encoding", "gzip")]
    )
    assert verify(url, TARGET, fetcher=fetcher).verdict == Verdict.LIVE


# -- redirects ----------------------------------------------------------------------------


def test_redirects_are_followed(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/old", "/older", 301)
    site.redirect("/older", "/post", 302)
    site.page("/post", page(LINK))
    result = verify(site.url("/old"), TARGET, fetcher=fetcher)
    assert result.verdict == Verdict.LIVE
    assert result.final_url == site.url("/post")
    assert result.redirects == (site.url("/old"), site.url("/older"))


def test_relative_links_resolve_against_the_final_url(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/old", "/dir/post")
    site.page("/dir/post", page('<a href="guide">x</a>'))
    result = verify(site.url("/old"), site.url("/dir/guide"), fetcher=fetcher)
    assert result.verdict == Verdict.LIVE


def test_meta_refresh_is_followed_when_the_link_is_not_on_the_page(
    site: TestSite, fetcher: Fetcher
) -> None:
    site.page("/bounce", page("", '<meta http-equiv="refresh" content="0; url=/post">'))
    site.page("/post", page(LINK))
    result = verify(site.url("/bounce"), TARGET, fetcher=fetcher)
    assert result.verdict == Verdict.LIVE
    assert result.final_url == site.url("/post")
    assert any("meta refresh" in note for note in result.notes)


def test_redirect_loop_is_an_error(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    result = verify(site.url("/a"), TARGET, fetcher=fetcher)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "too_many_redirects")
    assert result.transient


def test_too_many_redirects_is_an_error(site: TestSite, fetcher: Fetcher) -> None:
    for hop in range(6):
        site.redirect(f"/h{hop}", f"/h{hop + 1}")
    site.page("/h6", page(LINK))
    result = verify(site.url("/h0"), TARGET, fetcher=fetcher)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "too_many_redirects")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_gone(site: TestSite, fetcher: Fetcher, status: int) -> None:
    result = check(site, fetcher, page(LINK), status=status)
    assert (result.verdict, result.error_kind, result.http_status) == (
        Verdict.ERROR,
        "gone",
        status,
    )
    assert result.gone
    assert not result.transient
    assert result.anchors == ()


@pytest.mark.parametrize("status", [400, 405, 500, 502, 504])
def test_http_errors_are_transient(site: TestSite, fetcher: Fetcher, status: int) -> None:
    result = check(site, fetcher, page(LINK), status=status)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "http_status")
    assert result.transient
    assert not result.gone


@pytest.mark.parametrize("status", [401, 403, 429, 503])
def test_bot_wall_statuses(site: TestSite, fetcher: Fetcher, status: int) -> None:
    result = check(site, fetcher, page(LINK), status=status)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "bot_wall")
    assert result.transient


def test_cloudflare_challenge_page_is_a_bot_wall(site: TestSite, fetcher: Fetcher) -> None:
    challenge = (
        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        "<noscript>Enable JavaScript and cookies to continue</noscript>"
        "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script>"
        "</body></html>"
    )
    result = check(site, fetcher, challenge)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "bot_wall")


def test_cloudflare_mitigation_header_is_a_bot_wall(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(LINK), headers=[("cf-mitigated", "challenge")])
    assert result.error_kind == "bot_wall"


def test_ordinary_page_with_cloudflare_scripts_is_not_a_bot_wall(
    site: TestSite, fetcher: Fetcher
) -> None:
    script = "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>"
    assert check(site, fetcher, page(LINK + script)).verdict == Verdict.LIVE


def test_not_html(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, "%PDF-1.4", headers=[("Content-Type", "application/pdf")])
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "not_html")


def test_timeout(site: TestSite) -> None:
    def stall(handler: RequestHandler) -> None:
        time.sleep(3)

    url = site.route("/slow", handler=stall)
    fetcher = Fetcher(FetchConfig(allow_private_networks=True, timeout=0.5))
    result = verify(url, TARGET, fetcher=fetcher)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "timeout")
    assert result.elapsed_ms < 2000


def test_dns_failure() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    fetcher = Fetcher(FetchConfig(resolver=resolver))
    result = verify("https://no-such-host.test/post", TARGET, fetcher=fetcher)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "dns")


def test_blocked_address() -> None:
    result = verify("http://169.254.169.254/", TARGET, config=FetchConfig())
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "blocked_address")


def test_invalid_source_url() -> None:
    result = verify("not a url", TARGET, config=FetchConfig())
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "invalid_url")


def test_link_beyond_the_byte_cap_is_not_a_missing(site: TestSite) -> None:
    filler = "<p>" + "x" * 2000 + "</p>"
    url = site.page("/long", page(filler * 100 + LINK))
    fetcher = Fetcher(FetchConfig(allow_private_networks=True, max_bytes=50_000))
    result = verify(url, TARGET, fetcher=fetcher)
    assert (result.verdict, result.error_kind) == (Verdict.ERROR, "truncated")
    assert result.truncated


def test_link_within_the_byte_cap_of_a_long_page(site: TestSite) -> None:
    filler = "<p>" + "x" * 2000 + "</p>"
    url = site.page("/long", page(LINK + filler * 100))
    fetcher = Fetcher(FetchConfig(allow_private_networks=True, max_bytes=50_000))
    result = verify(url, TARGET, fetcher=fetcher)
    assert result.verdict == Verdict.LIVE
    assert result.truncated


# -- flags -------------------------------------------------------------------------------


def test_canonical_elsewhere(site: TestSite, fetcher: Fetcher) -> None:
    html = page(LINK, '<link rel="canonical" href="https://publisher.example/original">')
    result = check(site, fetcher, html)
    assert result.flags.canonical == "https://publisher.example/original"
    assert result.verdict == Verdict.LIVE


def test_relative_canonical_elsewhere(site: TestSite, fetcher: Fetcher) -> None:
    result = check(site, fetcher, page(LINK, '<link rel="canonical" href="/original">'))
    assert result.flags.canonical == site.url("/original")


@pytest.mark.parametrize("href", ["/post", "/post/", "/post#x", "{url}"])
def test_canonical_to_itself_is_no_flag(site: TestSite, fetcher: Fetcher, href: str) -> None:
    html = page(LINK, f'<link rel="canonical" href="{href.format(url=site.url("/post"))}">')
    assert check(site, fetcher, html).flags.canonical is None


def test_canonical_in_a_link_header(site: TestSite, fetcher: Fetcher) -> None:
    headers = [("Link", '<https://publisher.example/amp>; rel="canonical"')]
    result = check(site, fetcher, page(LINK), headers=headers)
    assert result.flags.canonical == "https://publisher.example/amp"


def test_robots_txt_blocked(site: TestSite, fetcher: Fetcher) -> None:
    site.route(
        "/robots.txt",
        "User-agent: Googlebot\nDisallow: /po*$\n",
        headers=[("Content-Type", "text/plain")],
    )
    result = check(site, fetcher, page(LINK))
    # Still fetched and judged: the flag stands beside the verdict.
    assert result.verdict == Verdict.LIVE
    assert result.flags.robots_txt_blocked is True


def test_robots_txt_for_other_bots_does_not_block(site: TestSite, fetcher: Fetcher) -> None:
    site.route(
        "/robots.txt",
        "User-agent: AhrefsBot\nDisallow: /\n",
        headers=[("Content-Type", "text/plain")],
    )
    assert check(site, fetcher, page(LINK)).flags.robots_txt_blocked is False


def test_robots_txt_answering_html_does_not_block(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/robots.txt", page("Disallow: /"))
    result = check(site, fetcher, page(LINK))
    assert result.flags.robots_txt_blocked is False
    assert any("HTML" in note for note in result.notes)


# -- evidence and output -------------------------------------------------------------------


def test_evidence(site: TestSite, fetcher: Fetcher) -> None:
    html = page(f"<p>Read {LINK} for more.</p>")
    result = check(site, fetcher, html)
    assert result.page_hash == hashlib.sha256(html.encode()).hexdigest()
    assert result.snippet == f"<p>Read {LINK} for more.</p>"
    assert result.bytes_read == len(html.encode())
    assert result.elapsed_ms >= 0


def test_to_json_has_exactly_the_design_keys(site: TestSite, fetcher: Fetcher) -> None:
    data = check(
        site, fetcher, page(f'<a href="{TARGET}" rel="nofollow ugc">Our guide</a>')
    ).to_json()
    assert list(data) == [
        "verdict",
        "http_status",
        "final_url",
        "anchors",
        "flags",
        "relevance",
        "relevance_terms",
        "rendered",
        "error",
        "elapsed_ms",
    ]
    assert data["verdict"] == "nofollow"
    assert data["anchors"] == [
        {
            "href": TARGET,
            "text": "Our guide",
            "rel": "nofollow ugc",
            "dofollow": False,
            "kind": "text",
            "placement": "content",
        }
    ]
    assert data["flags"] == {"noindex": False, "canonical": None, "robots_txt_blocked": False}
    assert json.loads(json.dumps(data)) == data


def test_error_to_json(site: TestSite, fetcher: Fetcher) -> None:
    data = check(site, fetcher, page(LINK), status=410).to_json()
    assert data["verdict"] == "error"
    assert data["http_status"] == 410
    assert data["error"] == "the page answered 410"
    assert data["anchors"] == []


def test_to_record_adds_the_evidence(site: TestSite, fetcher: Fetcher) -> None:
    record = check(site, fetcher, page(LINK), expected_anchor_text="other").to_record()
    assert set(record) >= {
        "differences",
        "error_kind",
        "gone",
        "page_hash",
        "snippet",
        "bytes_read",
        "truncated",
        "redirects",
        "notes",
    }
    assert record["differences"] == [
        {"kind": "anchor_text", "expected": "other", "found": ["Our guide"]}
    ]
    json.dumps(record)
