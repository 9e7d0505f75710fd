"""Does a page look built by JavaScript? The rule that sends a check to Chromium.

A check that found no link on a page its scripts fill in would call the link
missing, then lost: a false alarm. Rendering costs a second or more of CPU, so
only pages that look script-built are re-checked in Chromium, and the rule must
not pick ordinary pages: on the 32 real pages of shared/corpus/perf-pages (all
with their links in the HTML) it picks none (tests/benchmarks/bench_render.py
measures it).

What was measured on those pages: every one has at least 1,500 characters of
visible text and 7 links (most 200 or more); the smallest is 21 KB. A page built by a framework
ships an empty mount point (``<div id="root"></div>``) and a few hundred
characters at most. So the rule is:

* an **empty framework root** (``#root``, ``#app``, ``#__next``, ``#__nuxt``,
  ``#___gatsby``, ``[data-reactroot]``, ``[ng-app]``, ``app-root``... with under
  ``EMPTY_ROOT_CHARS`` of text) on a page with little text (under
  ``SPARSE_TEXT_CHARS``), or
* little text **and** one more sign: a ``<noscript>`` that asks for JavaScript,
  or few links (under ``FEW_LINKS``) for a page of ``FEW_LINKS_MIN_BYTES`` or
  more (script bundles inline), or almost no text at all (under
  ``BARE_TEXT_CHARS``) beside a ``<script>``.

A ``<noscript>`` alone proves nothing (blogs carry "enable JavaScript to see the
comments" under a full article), nor does a short page alone (a short page with
its links in the HTML has them found, and the rule is only asked about pages
where no link was found).

Pure: reads the parsed tree (``parse.ParsedPage.root``, scripts and styles
already stripped) and the raw bytes; no network, no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Visible text under which a page counts as sparse: the corpus's least has
# 1,538 characters; a framework's empty shell has its title and a noscript line.
SPARSE_TEXT_CHARS = 600
# Under this, a page with a script is a shell whatever else it has.
BARE_TEXT_CHARS = 120
# A mount point with less text than this is empty (a "Loading..." spinner).
EMPTY_ROOT_CHARS = 40
FEW_LINKS = 5
FEW_LINKS_MIN_BYTES = 8 * 1024

_ROOT_IDS = frozenset(
    {"root", "app", "__next", "__nuxt", "___gatsby", "svelte", "main-app", "react-root", "q-app"}
)
_ROOT_ATTRIBUTES = ("data-reactroot", "ng-app", "ng-version", "data-v-app", "data-server-rendered")
_ROOT_TAGS = frozenset({"app-root"})
# Words a <noscript> uses to ask for JavaScript. Bounded alternation, no nested
# quantifiers: linear on text a stranger wrote.
_ASKS_FOR_JS = re.compile(
    r"(?:enable|requires?|turn on|need|activate|allow)\s{0,3}(?:\S+\s{1,3}){0,3}?javascript"
    r"|javascript\s{1,3}(?:is\s{1,3})?(?:required|needed|disabled|must be enabled)",
    re.IGNORECASE,
)
_SCRIPT_TAG = re.compile(rb"<script\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ScriptSigns:
    """What the rule saw on one page, and its decision (``reason`` is None when
    the page does not look script-built). ``text_chars`` stops counting just
    past ``SPARSE_TEXT_CHARS``."""

    text_chars: int
    links: int
    size: int
    empty_root: str | None
    noscript_asks: bool
    has_script: bool
    reason: str | None

    @property
    def script_built(self) -> bool:
        return self.reason is not None


def _text_chars(element: Any, stop: int | None = None) -> int:
    """Characters of text under ``element``; counting ends past ``stop`` (an
    ordinary page is known not to be sparse after its first paragraphs)."""
    total = 0
    for piece in element.itertext():
        total += len(piece.strip())
        if stop is not None and total > stop:
            break
    return total


def _empty_root(root: Any) -> str | None:
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        name = None
        if element.get("id") in _ROOT_IDS:
            name = f"#{element.get('id')}"
        elif tag in _ROOT_TAGS:
            name = tag
        else:
            for attribute in _ROOT_ATTRIBUTES:
                if element.get(attribute) is not None:
                    name = f"[{attribute}]"
                    break
        if name is not None and _text_chars(element) < EMPTY_ROOT_CHARS:
            return name
    return None


def _noscript_asks_for_js(root: Any) -> bool:
    for element in root.iter("noscript"):
        # The first words are enough: "Please enable JavaScript to continue."
        text = " ".join(piece.strip() for piece in element.itertext())[:500]
        if _ASKS_FOR_JS.search(text):
            return True
    return False


def script_signs(body: bytes, root: Any, links: int) -> ScriptSigns:
    """Judge one page: ``body`` as fetched, ``root`` the parsed tree (None when
    the page was read without one), ``links`` the count of its anchors."""
    if root is None:
        # A page too deep for a tree is no framework shell: those are small.
        return ScriptSigns(0, links, len(body), None, False, False, None)
    body_element = root.find("body")
    if body_element is None:
        body_element = root
    text_chars = _text_chars(body_element, stop=SPARSE_TEXT_CHARS)
    size = len(body)
    sparse = text_chars < SPARSE_TEXT_CHARS
    has_script = bool(_SCRIPT_TAG.search(body))
    empty_root = _empty_root(body_element) if sparse else None
    noscript_asks = sparse and _noscript_asks_for_js(root)
    reason = None
    if sparse:
        if empty_root is not None:
            reason = f"an empty framework root ({empty_root}) and {text_chars} characters of text"
        elif noscript_asks:
            reason = f"a <noscript> asking for JavaScript and {text_chars} characters of text"
        elif has_script and links < FEW_LINKS and size >= FEW_LINKS_MIN_BYTES:
            reason = f"{links} links and {text_chars} characters of text in {size} bytes"
        elif has_script and text_chars < BARE_TEXT_CHARS:
            reason = f"scripts and {text_chars} characters of text"
    return ScriptSigns(text_chars, links, size, empty_root, noscript_asks, has_script, reason)
