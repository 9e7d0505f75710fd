"""Where on its page a link sits, and whether it is a text or an image link.

Search engines weigh a link in the body of an article above the same link in a
sitewide footer, a blogroll or a comment, and SEO tools report that split as
"content vs boilerplate". We read it from the anchor's ancestors, nearest first:

* ARIA roles, which are the author's explicit statement (``navigation``,
  ``banner``, ``contentinfo``, ``complementary``, ``main``);
* class and id names, split into words, in the conventions of WordPress themes
  (``#secondary .widget-area``, ``#colophon``, ``#comments .comment-list``) and
  of other common ones (``site-header``, ``navbar``, ``right-rail``);
* HTML5 sectioning elements (``nav``, ``aside``, ``header``, ``footer``).

A ``header``/``footer`` element inside an ``article``, ``aside``, ``main``,
``nav`` or ``section`` is that section's own header or footer, not the page's
banner or contentinfo (the rule of HTML-AAM, which screen readers and search
engines' boilerplate detection follow), so the byline and the tag list of a post
stay in its content.

The nearest decisive ancestor wins: a comment inside the content is a comment,
a menu inside the content (previous/next post) is navigation. Two exceptions
match how a reader sees a page: of nested page regions the outermost counts (a
widget area in the footer is footer, a "header" box in a sidebar is sidebar),
and a menu inside the footer or a sidebar is footer or sidebar; a menu in the
page header stays navigation. ``main``, ``role=main`` and a theme's name for a
post body (``entry-content``, ``article-body``, ``itemprop=articleBody``) end the
search: what is in there and marked as nothing else is content. An ``article``
does not end it, because an article card inside a sidebar or a footer is part
of that sidebar or footer. "Sidebar" stands for all complementary boxes: asides,
widgets, rails, related, popular and promoted posts.

The rules were measured on hand-labelled anchors of real pages
(tests/links/verification/placement_labels.json).

The cost is bounded whatever the page: at most ``MAX_ANCESTORS`` elements are
looked at and at most ``MAX_ATTRIBUTE_CHARS`` characters of each class or id, so
a hostile page (thousands of nested divs, a class attribute of megabytes) costs
the same as an ordinary one. Pass one ``cache`` dict for all anchors of a page
so that the ancestors they share are read once.
"""

from __future__ import annotations

import re
from typing import Any, Final

CONTENT: Final = "content"
NAVIGATION: Final = "navigation"
HEADER: Final = "header"
FOOTER: Final = "footer"
SIDEBAR: Final = "sidebar"
COMMENTS: Final = "comments"
PLACEMENTS: Final = (CONTENT, NAVIGATION, HEADER, FOOTER, SIDEBAR, COMMENTS)
BOILERPLATE: Final = frozenset({NAVIGATION, HEADER, FOOTER, SIDEBAR})

TEXT: Final = "text"
IMAGE: Final = "image"

# Real pages put their links at most ~40 elements deep; 256 leaves a wide margin
# and still bounds a page of 3,000 nested divs to a few hundred cheap reads.
MAX_ANCESTORS: Final = 256
# Theme class lists are a few hundred characters at most (WordPress body and
# post classes are the longest); the names that say "footer" or "sidebar" come
# first. Reading only this much of each attribute keeps tokenizing O(1) per
# element, so a 200 KB class attribute, shared by every anchor below it, cannot
# turn into megabytes of regex work per page.
MAX_ATTRIBUTE_CHARS: Final = 512
# How many nodes of an anchor's subtree kind_of looks at before deciding.
MAX_KIND_NODES: Final = 64

# What an element says about its descendants, and how strongly.
_MAIN = "main"  # ends the search: content
_ARTICLE = "article"  # content, unless an outer element says otherwise
# The body of a post by its theme's name for it ("entry-content", "article-body",
# itemprop=articleBody): as final as main. Layout wrappers further out are often
# named after the sidebar they sit beside ("container penci_sidebar").
_BODY = "body"
_HEADER_TAG = "header-tag"  # page header only when not inside a section
_FOOTER_TAG = "footer-tag"
_SECTIONING = frozenset({"article", "aside", "main", "nav", "section"})

_ROLES: Final = {
    "main": _MAIN,
    "article": _ARTICLE,
    "navigation": NAVIGATION,
    "menubar": NAVIGATION,
    "menu": NAVIGATION,
    "banner": HEADER,
    "contentinfo": FOOTER,
    "complementary": SIDEBAR,
}
_TAGS: Final = {
    "main": _MAIN,
    "article": _ARTICLE,
    "nav": NAVIGATION,
    "aside": SIDEBAR,
    "header": _HEADER_TAG,
    "footer": _FOOTER_TAG,
}

# Words of class/id names. camelCase is split too: "siteFooter", "CommentList".
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_FOOTER_WORDS = frozenset({"footer", "colophon", "sitefooter", "pagefooter", "globalfooter"})
_HEADER_WORDS = frozenset({"header", "masthead", "siteheader", "globalheader", "topbar"})
_NAV_WORDS = frozenset(
    {
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menus",
        "menubar",
        "megamenu",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "pager",
        "topnav",
        "subnav",
        "sitenav",
    }
)
# Run-together names: "micronav", "sidenav", "submenu", "dropdownmenu".
_NAV_SUFFIXES = ("nav", "menu")
_COMMENT_WORDS = frozenset(
    {"comment", "comments", "commentlist", "comentarios", "disqus", "respond", "discussion"}
)
# Words that make a name a widget box: the strongest sign of a sidebar.
_WIDGET_WORDS = frozenset({"sidebar", "sidebars", "widget", "widgets", "widgetarea", "blogroll"})
# Recirculation boxes (rails, related and popular posts): complementary content,
# auto-generated rather than editorial.
_RAIL_WORDS = frozenset(
    {
        "rail",
        "related",
        "recommended",
        "trending",
        "popular",
        "mostpopular",
        "promo",
        "promos",
        "outbrain",
        "taboola",
    }
)
# A header or footer of a part of the page, not of the page.
_PART_WORDS = frozenset(
    {
        "entry",
        "post",
        "article",
        "story",
        "card",
        "comment",
        "comments",
        "widget",
        "section",
        "modal",
        "panel",
        "table",
        "page",
        "archive",
        "author",
        "content",
        "block",
        "list",
        "title",
    }
)
# Names about the page's state or layout, or about a control, not a region:
# "has-sidebar", "no-sidebar", "menu-toggle", "comments-link", "nav-open".
_NOT_REGION_WORDS = frozenset(
    {
        "has",
        "no",
        "with",
        "without",
        "layout",
        "template",
        "toggle",
        "toggler",
        "open",
        "opened",
        "active",
        "enabled",
        "button",
        "btn",
        "icon",
        "link",
        "count",
        "counter",
        "number",
        "elementor",  # every Elementor content block is an "elementor-widget"
        # Theme variants and scripts' wrappers: "header-style-2" on the page
        # wrapper, "theiaStickySidebar" around the content column too.
        "style",
        "sticky",
        # An off-canvas "sidebar" is how a phone shows the menu.
        "offcanvas",
    }
)
# "page-bottom", "site-bottom": the footer by another name.
_PAGE_WORDS = frozenset({"page", "site", "global"})
_CONTENT_WORDS = frozenset({"content", "body", "text"})
_CONTENT_QUALIFIERS = frozenset({"entry", "post", "article", "story", "single", "blog"})
_CONTENT_NAMES = frozenset({"articlebody", "storybody", "postbody", "entrycontent"})


def _words(name: str) -> list[str]:
    """The words of one class or id name, lower-cased."""
    return [word.lower() for word in _WORD.findall(name)]


def _name_signal(words: list[str]) -> str | None:
    if not words:
        return None
    found = set(words)
    if found & _NOT_REGION_WORDS:
        # "skip-link" is the one control name that marks a region of links
        # (its target, "wp--skip-link--target", is the main content).
        return NAVIGATION if "skip" in found and "target" not in found else None
    part = bool(found & _PART_WORDS)
    if (found & _FOOTER_WORDS and not part) or ("bottom" in found and found & _PAGE_WORDS):
        return FOOTER
    if found & _WIDGET_WORDS:
        return SIDEBAR
    if found & _COMMENT_WORDS:
        return COMMENTS
    if found & _NAV_WORDS or any(word.endswith(_NAV_SUFFIXES) for word in words):
        return NAVIGATION
    if found & _HEADER_WORDS and not part:
        return HEADER
    if found & _RAIL_WORDS:
        return SIDEBAR
    if found & _CONTENT_NAMES or (found & _CONTENT_WORDS and found & _CONTENT_QUALIFIERS):
        return _BODY
    if words == ["secondary"]:
        # WordPress's default themes call their sidebar #secondary.
        return SIDEBAR
    return None


# Within one element's names: a post body's own name beats a word like
# "pagination" in a state class beside it ("article-body pagination-first").
_PRIORITY: Final = {FOOTER: 0, SIDEBAR: 1, COMMENTS: 2, _BODY: 3, NAVIGATION: 4, HEADER: 5}


# What each class or id name says, remembered across elements and pages: a theme
# repeats its few hundred names on every page. Bounded, so that a page of
# millions of unique names cannot grow it without end.
_NAME_SIGNALS: dict[str, str | None] = {}
_NAME_SIGNALS_MAX = 20_000
_UNKNOWN = "?"  # not a signal


def _names_signal(*values: str | None) -> str | None:
    best: str | None = None
    for value in values:
        if not value:
            continue
        for name in value[:MAX_ATTRIBUTE_CHARS].split():
            signal = _NAME_SIGNALS.get(name, _UNKNOWN)
            if signal == _UNKNOWN:
                if len(_NAME_SIGNALS) >= _NAME_SIGNALS_MAX:
                    _NAME_SIGNALS.clear()
                signal = _NAME_SIGNALS[name] = _name_signal(_words(name))
            if signal is not None and (best is None or _PRIORITY[signal] < _PRIORITY[best]):
                best = signal
    return best


def _signal(element: Any) -> tuple[str | None, bool]:
    """What one element says about the anchors inside it, and whether it is a section."""
    tag = element.tag
    if not isinstance(tag, str):
        return None, False
    tag = tag.lower()
    sectioning = tag in _SECTIONING
    role = element.get("role")
    if role:
        signal = _ROLES.get(role[:MAX_ATTRIBUTE_CHARS].split(" ", 1)[0].strip().lower())
        if signal is not None:
            return signal, sectioning or signal in (_MAIN, _ARTICLE, NAVIGATION, SIDEBAR)
    if tag == "main":
        # The author's own word for the main content, like role=main.
        return _MAIN, True
    if element.get("itemprop") == "articleBody":
        return _BODY, sectioning
    # The id and the classes are weighed together: a widget's id may say
    # "recent-comments-2" while its class says "widget".
    by_name = _names_signal(element.get("id"), element.get("class"))
    if by_name is not None:
        return by_name, sectioning
    return _TAGS.get(tag), sectioning


def _chain(
    element: Any, cache: dict[Any, tuple[str | None, bool]] | None
) -> list[tuple[str | None, bool]]:
    chain: list[tuple[str | None, bool]] = []
    current = element
    while current is not None and len(chain) < MAX_ANCESTORS:
        tag = current.tag
        if tag in ("body", "html"):
            # WordPress body classes describe the layout ("has-sidebar",
            # "footer-widgets-active"), not where a link is.
            break
        if cache is None:
            chain.append(_signal(current))
        else:
            known = cache.get(current)
            if known is None:
                known = cache[current] = _signal(current)
            chain.append(known)
        current = current.getparent()
    return chain


def _outer_region(chain: list[tuple[str | None, bool]], start: int) -> str | None:
    """The outermost page region (header, footer, sidebar) containing position ``start``."""
    outermost: str | None = None
    for index in range(start + 1, len(chain)):
        signal = chain[index][0]
        if signal in (_MAIN, _BODY):
            break
        region = SIDEBAR if signal == SIDEBAR else _page_region(chain, index)
        if region is not None:
            outermost = region
    return outermost


def _page_region(chain: list[tuple[str | None, bool]], index: int) -> str | None:
    signal = chain[index][0]
    if signal in (FOOTER, HEADER):
        return signal
    if signal in (_FOOTER_TAG, _HEADER_TAG):
        if any(sectioning for _signal, sectioning in chain[index + 1 :]):
            return None
        return FOOTER if signal == _FOOTER_TAG else HEADER
    return None


def region_of(element: Any, *, in_section: bool) -> tuple[str | None, bool, bool]:
    """For a walk down the tree (the main text, links.verification.relevance): the
    region ``element`` starts (one of BOILERPLATE or COMMENTS) or None, whether it
    is a sectioning element, and whether it is the page's named main content
    (``main``, ``role=main``, a theme's post body). ``in_section`` says whether an
    ancestor is sectioning: a header or footer there is that section's own, as
    for placement_of."""
    signal, sectioning = _signal(element)
    if signal in (_HEADER_TAG, _FOOTER_TAG):
        if in_section:
            return None, sectioning, False
        return (HEADER if signal == _HEADER_TAG else FOOTER), sectioning, False
    if signal in (_MAIN, _BODY):
        return None, sectioning, True
    if signal == _ARTICLE:
        return None, sectioning, False
    return signal, sectioning, False


def placement_of(element: Any, *, cache: dict[Any, tuple[str | None, bool]] | None = None) -> str:
    """One of PLACEMENTS for an lxml ``<a>`` element of a parsed page."""
    chain = _chain(element, cache)
    for index, (signal, _sectioning) in enumerate(chain):
        if signal is None or signal == _ARTICLE:
            continue
        if signal in (_MAIN, _BODY):
            return CONTENT
        if signal == COMMENTS:
            return COMMENTS
        if signal in (_HEADER_TAG, _FOOTER_TAG):
            signal = _page_region(chain, index)
            if signal is None:
                continue  # the header or footer of an article or section
        # Of two nested regions the outer one is where the reader sees the link:
        # a widget area in the footer is footer, a "header" of a sidebar box is
        # sidebar. A menu in the page header is the site navigation.
        outer = _outer_region(chain, index)
        if signal == NAVIGATION:
            return outer if outer in (FOOTER, SIDEBAR) else NAVIGATION
        return outer or signal
    return CONTENT


_IMAGES: Final = frozenset({"img", "picture", "svg", "image"})
_UNSEEN: Final = frozenset({"title", "desc"})
_MEANINGFUL = re.compile(r"\w")


def kind_of(element: Any) -> str:
    """``image`` when what a reader sees of the anchor is an image, else ``text``."""
    has_image = False
    for seen, node in enumerate(element.iter()):
        if seen >= MAX_KIND_NODES:
            break
        tag = node.tag
        name = tag.lower() if isinstance(tag, str) else ""
        if name in _IMAGES:
            has_image = True
        # An SVG's <title> and <desc> are its alt text, not text on the page.
        text = None if name in _UNSEEN else node.text
        if text and _MEANINGFUL.search(text[:MAX_ATTRIBUTE_CHARS]):
            return TEXT
        # The anchor's own tail is outside it.
        if node is not element:
            tail = node.tail
            if tail and _MEANINGFUL.search(tail[:MAX_ATTRIBUTE_CHARS]):
                return TEXT
    return IMAGE if has_image else TEXT
