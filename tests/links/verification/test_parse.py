from __future__ import annotations

import html
import time

import pytest

from links.verification.parse import (
    MetaRefresh,
    ParsedPage,
    page_directives,
    parse_html,
    snippet,
    x_robots_tokens,
)


def parse(html: str, encoding: str = "utf-8") -> ParsedPage:
    return parse_html(html.encode(encoding), encoding)


def only_anchor(html: str) -> tuple[str, str, tuple[str, ...]]:
    page = parse(html)
    assert len(page.anchors) == 1, page.anchors
    anchor = page.anchors[0]
    return anchor.href, anchor.text, anchor.rel


# -- rel ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "tokens"),
    [
        ("nofollow", ("nofollow",)),
        ("ugc", ("ugc",)),
        ("sponsored", ("sponsored",)),
        ("noopener", ("noopener",)),
        ("noreferrer", ("noreferrer",)),
        ("NoFollow", ("nofollow",)),
        ("SPONSORED", ("sponsored",)),
        ("nofollow ugc", ("nofollow", "ugc")),
        ("noopener  noreferrer\tnofollow", ("noopener", "noreferrer", "nofollow")),
        ("\n  ugc\n  sponsored  ", ("ugc", "sponsored")),
        ("", ()),
        ("   ", ()),
    ],
)
def test_rel_tokens(rel: str, tokens: tuple[str, ...]) -> None:
    assert only_anchor(f'<a href="https://t.test/" rel="{rel}">x</a>')[2] == tokens


def test_no_rel_attribute() -> None:
    assert only_anchor('<a href="https://t.test/">x</a>')[2] == ()


# -- anchor text ---------------------------------------------------------------------------


def test_text_whitespace_is_collapsed() -> None:
    assert only_anchor('<a href="/x">\n  Best   <b>SEO</b>\n\tguide </a>')[1] == "Best SEO guide"


def test_text_entities_are_decoded() -> None:
    assert only_anchor('<a href="/x">Tom &amp; Jerry&nbsp;&#8211; caf&eacute;</a>')[1] == (
        "Tom & Jerry \u2013 café"
    )


def test_script_and_style_text_inside_a_link_is_dropped() -> None:
    html = (
        '<a href="/x">Visible<script>var hidden = "<b>no</b>";</script><style>a{}</style> text</a>'
    )
    assert only_anchor(html)[1] == "Visible text"


def test_image_link_text_is_the_alt() -> None:
    assert only_anchor('<a href="/x"><img src="logo.png" alt=" Our  Brand "></a>')[1] == "Our Brand"


def test_image_link_without_alt_has_empty_text() -> None:
    assert only_anchor('<a href="/x"><img src="logo.png"></a>')[1] == ""


def test_text_wins_over_alt_when_both_exist() -> None:
    assert only_anchor('<a href="/x"><img alt="Logo"> Brand</a>')[1] == "Brand"


# -- what is and is not an anchor -------------------------------------------------------


def test_link_elements_are_not_anchors() -> None:
    page = parse('<link rel="stylesheet" href="https://t.test/"><link rel="alternate" href="/x">')
    assert page.anchors == []


def test_anchor_without_href_is_not_a_link() -> None:
    assert parse('<a name="top">Top</a><a id="x">X</a>').anchors == []


def test_javascript_href_is_kept_as_written() -> None:
    # The matcher decides it leads nowhere; the parser reports what the page says.
    assert only_anchor('<a href="javascript:void(0)">x</a>')[0] == "javascript:void(0)"


def test_commented_out_links_are_ignored() -> None:
    html = (
        "<body><!-- <a href='https://t.test/old'>old</a> -->"
        "<!--[if IE]><a href='https://t.test/ie'>ie</a><![endif]-->"
        "<a href='https://t.test/live'>live <!-- note --> link</a></body>"
    )
    assert [(a.href, a.text) for a in parse(html).anchors] == [("https://t.test/live", "live link")]


def test_links_inside_script_are_not_anchors() -> None:
    assert (
        parse("<script>document.write('<a href=\"https://t.test/\">x</a>')</script>").anchors == []
    )


def test_unclosed_and_nested_anchors_are_all_found() -> None:
    page = parse('<p><a href="/one">one<a href="/two">two</p><a href="/three">three')
    assert [a.href for a in page.anchors] == ["/one", "/two", "/three"]


def test_empty_page() -> None:
    assert parse_html(b"", "utf-8").anchors == []
    assert parse_html(b"   \n", "utf-8").anchors == []


# -- page-level signals ----------------------------------------------------------------------


def test_meta_robots_tokens() -> None:
    page = parse('<head><meta name="ROBOTS" content="NoIndex, NOFOLLOW"></head>')
    assert page.meta_robots == ("noindex", "nofollow")


def test_meta_googlebot_tokens() -> None:
    page = parse(
        '<meta name="googlebot" content="nofollow"><meta name="bingbot" content="noindex">'
    )
    assert page.meta_googlebot == ("nofollow",)
    assert page.meta_robots == ()


def test_canonical() -> None:
    page = parse('<link rel="Canonical" href="https://t.test/c"><link rel="canonical" href="/2">')
    assert page.canonical == "https://t.test/c"


def test_base_href_first_one_wins() -> None:
    page = parse('<base href="https://b.test/dir/"><base href="https://other.test/">')
    assert page.base_href == "https://b.test/dir/"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("0; url=https://n.test/", MetaRefresh(0.0, "https://n.test/")),
        ("0;URL='https://n.test/q'", MetaRefresh(0.0, "https://n.test/q")),
        ('5, url="/next"', MetaRefresh(5.0, "/next")),
        ("3", MetaRefresh(3.0, None)),
        ("0;https://n.test/bare", MetaRefresh(0.0, "https://n.test/bare")),
    ],
)
def test_meta_refresh(content: str, expected: MetaRefresh) -> None:
    page = parse(f'<meta http-equiv="Refresh" content="{html.escape(content)}">')
    assert page.refresh == expected


def test_title() -> None:
    assert parse("<title>  Just a\n moment... </title>").title == "Just a moment..."


# -- X-Robots-Tag -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "tokens"),
    [
        (["noindex"], ("noindex",)),
        (["noindex, nofollow"], ("noindex", "nofollow")),
        (["NONE"], ("none",)),
        (["googlebot: nofollow"], ("nofollow",)),
        (["GoogleBot: noindex, nofollow"], ("noindex", "nofollow")),
        (["otherbot: noindex, nofollow"], ()),
        (["bingbot: nofollow", "noindex"], ("noindex",)),
        (["otherbot: nofollow, googlebot: noindex"], ("noindex",)),
        (
            ["unavailable_after: 25 Jun 2010 15:00:00 PST"],
            ("unavailable_after:", "25", "jun", "2010", "15:00:00", "pst"),
        ),
        (["max-snippet: 20, nofollow"], ("max-snippet:", "20", "nofollow")),
    ],
)
def test_x_robots_tag_tokens(values: list[str], tokens: tuple[str, ...]) -> None:
    assert x_robots_tokens(values) == tokens


def test_page_directives_from_meta_robots() -> None:
    directives = page_directives(parse('<meta name="robots" content="nofollow">'))
    assert (directives.noindex, directives.nofollow) == (False, True)


def test_page_directives_from_meta_googlebot() -> None:
    directives = page_directives(parse('<meta name="googlebot" content="noindex">'))
    assert (directives.noindex, directives.nofollow) == (True, False)


def test_page_directives_none_means_both() -> None:
    directives = page_directives(parse('<meta name="robots" content="none">'))
    assert (directives.noindex, directives.nofollow) == (True, True)


def test_page_directives_from_header_only() -> None:
    directives = page_directives(parse("<p>hi</p>"), ["googlebot: nofollow"])
    assert directives.nofollow
    assert directives.sources == ("X-Robots-Tag: nofollow",)


def test_page_directives_ignore_other_bots() -> None:
    page = parse('<meta name="bingbot" content="nofollow, noindex">')
    directives = page_directives(page, ["otherbot: noindex, nofollow"])
    assert (directives.noindex, directives.nofollow) == (False, False)


# -- charsets -------------------------------------------------------------------------------


def test_windows_1251_text() -> None:
    page = parse('<a href="/x">Купить слона</a>', "windows-1251")
    assert page.anchors[0].text == "Купить слона"


def test_shift_jis_text() -> None:
    page = parse('<a href="/x">日本語のリンク</a>', "shift_jis")
    assert page.anchors[0].text == "日本語のリンク"


def test_invalid_utf8_bytes_do_not_stop_the_parse() -> None:
    page = parse_html(b"<p>caf\xe9 \xff</p><a href='/after'>after</a>", "utf-8")
    assert [a.href for a in page.anchors] == ["/after"]


# -- robustness -------------------------------------------------------------------------


def test_deep_nesting_does_not_hide_later_links() -> None:
    depth = 40_000
    html = (
        "<html><head><meta name='robots' content='noindex'></head><body>"
        + "<div>" * depth
        + "<a href='https://t.test/deep'>deep <script>x()</script>link</a>"
        + "</div>" * depth
        + "<a rel='nofollow' href='https://t.test/after'><img alt='After'></a></body></html>"
    )
    # CPU time: the bound is on the work, not on what else shares the cores.
    started = time.process_time()
    page = parse(html)
    assert time.process_time() - started < 5
    assert [(a.href, a.text, a.rel) for a in page.anchors] == [
        ("https://t.test/deep", "deep link", ()),
        ("https://t.test/after", "After", ("nofollow",)),
    ]
    assert page.meta_robots == ("noindex",)
    assert "https://t.test/after" in snippet(page.anchors[1], page)


def test_too_deep_pages_still_tell_text_links_from_image_links() -> None:
    # No tree, so placement.kind_of cannot run: the tokenizer tells the kind.
    html = (
        "<body>"
        + "<div>" * 40_000
        + "</div>" * 40_000
        + "<a href='/img'><img src='a.png' alt='Logo'></a>"
        + "<a href='/svg'><svg><title>Home</title></svg></a>"
        + "<a href='/both'><img src='a.png' alt=''> Read more</a>"
        + "<a href='/text'>Our guide</a>"
        + "<a href='/empty'> - </a>"
    )
    page = parse(html)
    assert page.streamed
    assert [(a.href, a.kind) for a in page.anchors] == [
        ("/img", "image"),
        # The tokenizer cannot tell an SVG's <title> from visible text.
        ("/svg", "text"),
        ("/both", "text"),
        ("/text", "text"),
        ("/empty", "text"),
    ]


def test_deep_unclosed_nesting() -> None:
    html = "<body>" + "<span><b>" * 40_000 + "<a href='https://t.test/x'>x</a>"
    assert [a.href for a in parse(html).anchors] == ["https://t.test/x"]


def test_sixty_thousand_anchors() -> None:
    html = "<body>" + "".join(
        f"<p><a href='https://t{i % 7}.test/{i}' rel=nofollow>link {i}</a></p>"
        for i in range(60_000)
    )
    # CPU time: the bound is on the work, not on what else shares the cores.
    started = time.process_time()
    page = parse(html)
    assert time.process_time() - started < 10
    assert len(page.anchors) == 60_000
    assert page.anchors[-1].text == "link 59999"


# -- snippet ------------------------------------------------------------------------------


def test_snippet_shows_the_anchor_in_its_context() -> None:
    page = parse('<body><p>Read <a href="https://t.test/">our guide</a> today.</p></body>')
    assert (
        snippet(page.anchors[0], page)
        == '<p>Read <a href="https://t.test/">our guide</a> today.</p>'
    )


def test_snippet_of_an_anchor_in_a_long_article_is_short() -> None:
    article = "<p>" + "word " * 5000 + "</p>"
    page = parse(
        f"<body><div>{article}<p><a href='https://t.test/'>x</a></p>{article}</div></body>"
    )
    text = snippet(page.anchors[0], page)
    assert 'href="https://t.test/"' in text
    assert len(text) < 1300
