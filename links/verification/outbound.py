"""Find the dead outbound links of a page: the broken-link finder's engine.

Pure Python like the rest of this package: the caller hands in the fetcher (with
its guard, timeouts and byte caps) and, optionally, a cross-worker host slot.

A link is judged by HEAD first, because it reads no body. Servers disagree about
HEAD (405 and 501 are common, and some answer 404 or 403 to HEAD alone), so any
HEAD answer of 400 or more is asked again with GET before it counts: a dead link
listed by mistake costs a member an embarrassing email, a second request to a
dead page costs nothing. Network failures are not asked twice in a row: a name
that does not resolve resolves no better for GET.

What counts as dead is what a reader of the page would hit: 404 or 410, a host
name that no longer resolves, a connection refused. A 5xx answer, a timeout or a
broken TLS handshake may be passing trouble: those are "maybe dead", and the
caller checks them again before showing them. A 401, 403 or 429 is a live site
that turns bots away, not a dead link.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from links.verification.addresses import is_public_address, parse_ip_host
from links.verification.fetch import (
    BAD_PORTS,
    ErrorKind,
    Fetcher,
    FetchResult,
)
from links.verification.parse import Anchor, ParsedPage, parse_html
from links.verification.pool import HostBusy, HostLimiter, host_fair
from links.verification.urls import (
    DEFAULT_PORTS,
    InvalidURL,
    domain_of,
    effective_base,
    normalize_url,
    resolve_href,
    url_key,
)

DEAD_STATUSES = frozenset({404, 410})
# Enough of a GET to know the status; the body of a live page is not wanted.
GET_MAX_BYTES = 16 * 1024
# Block-level elements: the text of the nearest one around a link is where its
# sentence is.
_BLOCKS = frozenset(
    {"p", "li", "td", "th", "dd", "dt", "blockquote", "figcaption", "caption", "h1", "h2",
     "h3", "h4", "h5", "h6", "div", "section", "article", "body"}
)  # fmt: skip
# Linear: the look-behind admits only a position right after ".", "!" or "?",
# so each run of spaces is read from at most one start.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s++(?=[A-Z0-9\"'(])")
# A tag ends at the next "<" as well as at ">": "<<<<..." costs one pass.
_TAG = re.compile(r"<[^<>]*+>")
MAX_CONTEXT = 300


class LinkOutcome(StrEnum):
    OK = "ok"
    DEAD = "dead"
    MAYBE_DEAD = "maybe_dead"
    # Not judged: robots.txt forbids it, the address is refused, the host was busy.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    url: str
    outcome: LinkOutcome
    reason: str
    status: int | None = None
    error_kind: str | None = None
    final_url: str | None = None
    method: str = "HEAD"


@dataclass(slots=True)
class OutboundLink:
    url: str
    anchor_text: str
    context: str


@dataclass(slots=True)
class PageLinks:
    url: str
    final_url: str
    links: list[OutboundLink] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    status: int | None = None
    # True when the page had more outbound links than the caller's max_links.
    capped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


# --- Judging one link ------------------------------------------------------------------


def judge(result: FetchResult, method: str) -> LinkStatus:
    """What one fetch result says about a link."""
    kind = result.error_kind
    common: dict[str, Any] = {
        "url": result.url,
        "status": result.status,
        "error_kind": str(kind) if kind else None,
        "final_url": result.final_url,
        "method": method,
    }
    if kind is None:
        return LinkStatus(outcome=LinkOutcome.OK, reason=f"answered {result.status}", **common)
    if kind == ErrorKind.HTTP_STATUS:
        status = result.status or 0
        if status in DEAD_STATUSES:
            return LinkStatus(outcome=LinkOutcome.DEAD, reason=f"answered {status}", **common)
        if status >= 500:
            reason = f"answered {status} (server error)"
            return LinkStatus(outcome=LinkOutcome.MAYBE_DEAD, reason=reason, **common)
        reason = f"answered {status}: the site is up but turned the check away"
        return LinkStatus(outcome=LinkOutcome.OK, reason=reason, **common)
    error = result.error or str(kind)
    if kind == ErrorKind.DNS:
        return LinkStatus(outcome=LinkOutcome.DEAD, reason=f"no such host: {error}", **common)
    if kind == ErrorKind.CONNECT and "refused" in error.lower():
        return LinkStatus(outcome=LinkOutcome.DEAD, reason="connection refused", **common)
    if kind in (ErrorKind.BLOCKED_ADDRESS, ErrorKind.INVALID_URL, ErrorKind.BAD_SCHEME):
        return LinkStatus(outcome=LinkOutcome.UNKNOWN, reason=f"not checked: {error}", **common)
    if kind == ErrorKind.NOT_HTML:  # a GET that was not asked to be HTML-only never says this
        return LinkStatus(outcome=LinkOutcome.OK, reason=error, **common)
    return LinkStatus(outcome=LinkOutcome.MAYBE_DEAD, reason=error, **common)


def check_link(url: str, *, fetcher: Fetcher, robots_agent: str | None = None) -> LinkStatus:
    """HEAD, then GET when HEAD was answered with an error status; robots.txt first."""
    if robots_agent is not None:
        robots = fetcher.robots(url, user_agent=robots_agent)
        if not robots.allowed:
            return LinkStatus(
                url=url,
                outcome=LinkOutcome.UNKNOWN,
                reason=f"not checked: {robots.robots_url} disallows it",
            )
    head = fetcher.head(url)
    if head.error_kind not in (ErrorKind.HTTP_STATUS, ErrorKind.PROTOCOL):
        return judge(head, "HEAD")
    return judge(fetcher.fetch(url, max_bytes=GET_MAX_BYTES), "GET")


def check_links(
    urls: Iterable[str],
    *,
    fetcher: Fetcher,
    limiter: HostLimiter | None = None,
    max_workers: int = 16,
    robots_agent: str | None = None,
) -> Generator[LinkStatus, None, None]:
    """Check links on the host-fair pool; yield each status as it completes.

    Each link holds a slot of ``limiter`` for its site while it is checked; a
    link whose site stays busy (HostBusy) is left unjudged. Closing the iterator
    stops handing out links and waits only for those in flight.
    """

    def busy(url: str, exc: HostBusy) -> LinkStatus:
        return LinkStatus(url=url, outcome=LinkOutcome.UNKNOWN, reason=f"not checked: {exc}")

    results = host_fair(
        lambda url: check_link(url, fetcher=fetcher, robots_agent=robots_agent),
        urls,
        url_of=lambda url: url,
        limiter=limiter,
        max_workers=max_workers,
        on_busy=busy,
        thread_name_prefix="anchorage-links",
    )
    try:
        for _url, status in results:
            yield status
    finally:
        results.close()


# --- A page's outbound links -----------------------------------------------------------


def outbound_links(url: str, *, fetcher: Fetcher, max_links: int | None = None) -> PageLinks:
    """Fetch a page and list its links to other sites, one per distinct URL: the
    first ``max_links`` of them at most (``capped`` says when there were more)."""
    fetched = fetcher.fetch(url, html_only=True)
    page_links = PageLinks(url=url, final_url=fetched.final_url, status=fetched.status)
    if not fetched.ok:
        page_links.error = fetched.error or str(fetched.error_kind)
        page_links.error_kind = str(fetched.error_kind)
        return page_links
    page = parse_html(fetched.body, fetched.encoding or "utf-8")
    # One more than the cap tells "exactly at the cap" from "more than the cap".
    limit = None if max_links is None else max_links + 1
    links = extract_outbound(page, fetched.final_url, max_links=limit)
    if max_links is not None and len(links) > max_links:
        links, page_links.capped = links[:max_links], True
    page_links.links = links
    return page_links


def extract_outbound(
    page: ParsedPage, page_url: str, *, max_links: int | None = None
) -> list[OutboundLink]:
    """Links from ``page`` to other sites (another registrable domain than the
    page's: a dead link to the site's own subdomain is theirs to fix, not a place
    for our page), first occurrence of each URL, with anchor text and the
    sentence; the first ``max_links`` distinct ones at most. A hostile page holds
    a hundred thousand links, and each kept one costs a sentence here and
    requests later."""
    base = effective_base(page_url, page.base_href)
    own = domain_of(page_url)
    found: dict[str, OutboundLink] = {}
    blocks: Blocks = {}
    for anchor in page.anchors:
        resolved = resolve_href(anchor.href, base)
        if resolved is None:
            continue
        try:
            if domain_of(resolved) == own:
                continue
            key = url_key(resolved)
        except InvalidURL:
            continue
        existing = found.get(key)
        if existing is None:
            if max_links is not None and len(found) >= max_links:
                break
            found[key] = OutboundLink(
                resolved, anchor.text, sentence_around(anchor, page, blocks=blocks)
            )
        elif not existing.anchor_text and anchor.text:
            # An image link first and a text link later: the words say more.
            existing.anchor_text = anchor.text
            existing.context = sentence_around(anchor, page, blocks=blocks)
    return list(found.values())


def _collapse(text: str) -> str:
    return " ".join(text.split())


# A block's text, and where in it each of its links starts and ends.
BlockText = tuple[str, dict[Any, tuple[int, int]]]
Blocks = dict[Any, BlockText]


def _block_text(block: Any) -> BlockText:
    pieces: list[str] = []
    size = 0
    starts: dict[Any, int] = {}
    spans: dict[Any, tuple[int, int]] = {}
    for event, node in etree.iterwalk(block, events=("start", "end")):
        if event == "start":
            if node.tag == "a":
                starts[node] = size
            if node.text:
                pieces.append(node.text)
                size += len(node.text)
        else:
            if node.tag == "a" and node in starts:
                spans[node] = (starts.pop(node), size)
            if node is not block and node.tail:
                pieces.append(node.tail)
                size += len(node.tail)
    return "".join(pieces), spans


def sentence_around(
    anchor: Anchor, page: ParsedPage, *, limit: int = MAX_CONTEXT, blocks: Blocks | None = None
) -> str:
    """The sentence a link sits in, as plain text: what the page says about it.

    Only a window of the block around the link is read, and each block's text
    is built once per ``blocks``: reading a whole block for each of its links
    made a page of links straight in ``<body>`` quadratic (8,000 links in
    400 KB took 95 s). The answer is at most ``limit`` characters, so a window
    of twice that on each side holds every sentence that fits whole.
    """
    text = anchor.text
    block_text = ""
    at = 0  # where the link starts in block_text
    element = anchor.element
    if element is not None:
        node = element.getparent()
        while node is not None and node.tag not in _BLOCKS:
            node = node.getparent()
        if node is not None:
            blocks = {} if blocks is None else blocks
            read = blocks.get(node)
            if read is None:
                read = blocks[node] = _block_text(node)
            raw, spans = read
            start, end = spans.get(element, (0, 0))
            window = max(0, start - 2 * limit)
            before = _collapse(raw[window:start])
            block_text = _collapse(raw[window : end + 2 * limit])
            at = len(before) + 1 if before else 0
    elif anchor.offset is not None and page.source is not None:
        raw = page.source[max(0, anchor.offset - limit) : anchor.offset + limit]
        block_text = _collapse(_TAG.sub(" ", raw))
    if not block_text:
        return text[:limit]
    if text:
        for sentence in _SENTENCE_END.split(block_text):
            if text in sentence:
                return _shorten(sentence, text, limit)
        return _shorten(block_text, text, limit)
    # An image link: the sentence it sits in.
    begin = 0
    for boundary in _SENTENCE_END.finditer(block_text):
        if boundary.start() >= at:
            return _shorten(block_text[begin : boundary.start()], "", limit)
        begin = boundary.end()
    return _shorten(block_text[begin:], "", limit)


def _shorten(sentence: str, around: str, limit: int) -> str:
    if len(sentence) <= limit:
        return sentence
    at = sentence.find(around) if around else 0
    start = max(0, min(at - limit // 3, len(sentence) - limit))
    cut = sentence[start : start + limit]
    return ("…" if start else "") + cut.strip() + ("…" if start + limit < len(sentence) else "")


# --- Refusing hostile input early ----------------------------------------------------------

_LOCAL_NAMES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


def refusal_reason(url: str, *, allow_private_networks: bool = False) -> str | None:
    """Why a URL a person typed will not be fetched, said before any lookup; or None.

    The fetcher refuses the same URLs (and more, after resolving names); this
    only lets a form answer at once for what can be seen in the text itself.
    """
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return "this is not a valid URL"
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        return f"only http:// and https:// pages can be checked, not {shown}"
    try:
        normalized = normalize_url(url)
    except InvalidURL as exc:
        return str(exc)
    parts = urlsplit(normalized)
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    if port in BAD_PORTS:
        return f"port {port} is not for web servers"
    if allow_private_networks:
        return None
    if host == "localhost" or host.endswith(_LOCAL_NAMES):
        return f"{host} is a name on the local network, which the checker may not reach"
    try:
        literal = parse_ip_host(host)
    except InvalidURL as exc:
        return str(exc)
    if literal is not None and not is_public_address(literal):
        return f"{literal} is not a public internet address, which the checker may not reach"
    return None
