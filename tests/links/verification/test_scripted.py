"""The rule that sends a page to Chromium: framework shells yes, ordinary pages no."""

from __future__ import annotations

import pytest

from links.verification.parse import parse_html
from links.verification.scripted import script_signs

ARTICLE = " ".join(["Trail running shoes need grip, cushioning and a good fit."] * 40)
BUNDLE = "<script>" + "var x=1;" * 2000 + "</script>"


def signs(html: str):
    body = html.encode()
    page = parse_html(body)
    return script_signs(body, page.root, len(page.anchors))


@pytest.mark.parametrize(
    "html",
    [
        '<html><head><title>Shop</title></head><body><div id="root"></div>'
        '<script src="/main.js"></script></body></html>',
        '<html><body><div id="__next">Loading...</div><script src="/_next/x.js"></script></body>'
        "</html>",
        '<html><body><div data-reactroot=""></div></body></html>',
        "<html><body><app-root></app-root><script src=main.js></script></body></html>",
        "<html><body><noscript>You need to enable JavaScript to run this app.</noscript>"
        '<main class="x"></main><script src="/a.js"></script></body></html>',
        f"<html><body><header>Acme</header><p>Welcome</p>{BUNDLE}</body></html>",
    ],
)
def test_framework_shells_look_script_built(html: str) -> None:
    assert signs(html).script_built


@pytest.mark.parametrize(
    "html",
    [
        # A full article, with the comments widget asking for JavaScript.
        f"<html><body><div id='app'><article><p>{ARTICLE}</p></article></div>"
        "<noscript>Please enable JavaScript to view the comments.</noscript>"
        f"{BUNDLE}</body></html>",
        # A short static page without scripts: nothing to render.
        "<html><body><p>Contact us at the shop.</p></body></html>",
        # A server-rendered framework root full of content.
        f"<html><body><div id='__next'><p>{ARTICLE}</p></div>{BUNDLE}</body></html>",
    ],
)
def test_ordinary_pages_do_not(html: str) -> None:
    result = signs(html)
    assert not result.script_built, result.reason


def test_the_reason_says_what_was_seen() -> None:
    result = signs('<html><body><div id="root"></div><script src="/m.js"></script></body></html>')
    assert result.empty_root == "#root"
    assert result.reason is not None
    assert "#root" in result.reason
