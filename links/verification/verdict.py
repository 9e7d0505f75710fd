"""One verification: fetch the source page, find the anchors to the target, judge.

Three answers are kept apart (DESIGN.md, Verification): the link is there
(``live``, or ``nofollow`` when it passes no value), the link is not there
(``missing``), and we could not tell (``error``, with an ``error_kind``). Only the
first two are judgements about the link; an error never is, so a caller must not
count it as a loss, except for a page that answers 404/410 (``gone``) twice.

robots.txt is read, but never stops the check: the backlink was agreed with the
publisher, we fetch one page of theirs now and then, and what the owner wants to
know is whether Google may see the link. ``robots_txt_blocked`` reports that
Googlebot may not crawl the page, beside a verdict judged on the page as served.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from links.verification.fetch import (
    ErrorKind,
    FetchConfig,
    Fetcher,
    FetchResult,
    Redirect,
    RobotsResult,
)
from links.verification.parse import (
    NOT_PASSING,
    Anchor,
    PageDirectives,
    ParsedPage,
    page_directives,
    parse_html,
    snippet,
)
from links.verification.placement import TEXT, kind_of, placement_of
from links.verification.pool import HostLimiter, host_fair
from links.verification.relevance import Reference, relevance_of
from links.verification.scripted import script_signs
from links.verification.urls import (
    InvalidURL,
    LinkMatches,
    Target,
    effective_base,
    find_links,
    resolve_href,
    url_key,
)

GONE_STATUSES = frozenset({404, 410})
# How bot walls answer. 503 is also "down for maintenance": either way we could
# not see the page, which is all an error verdict claims.
BOT_WALL_STATUSES = frozenset({401, 403, 429, 503})
# Possessive and bounded by "<": a title tag without its ">" or a title of
# spaces costs one pass, not one pass per "<title" (the head is 32 KB).
_CHALLENGE_TITLES = re.compile(
    rb"<title[^<>]*+>\s*+(?:just a moment\.\.\.|attention required! \| cloudflare|ddos-guard"
    rb"|access denied|please wait\.\.\.|checking your browser[^<]*+)\s*+</title>",
    re.IGNORECASE,
)
_TAG = re.compile(rb"<[^<>]*+>")
# Markers of a challenge that only count on a small page: the same scripts are
# also injected into ordinary pages behind the same services.
_CHALLENGE_MARKERS = re.compile(
    rb"_incapsula_resource|captcha-delivery\.com|sgcaptcha|/cdn-cgi/challenge-platform/h/",
    re.IGNORECASE,
)


class Verdict(StrEnum):
    LIVE = "live"
    NOFOLLOW = "nofollow"
    MISSING = "missing"
    ERROR = "error"


class VerdictErrorKind(StrEnum):
    """Error kinds decided here, beside the fetcher's own (``ErrorKind``)."""

    GONE = "gone"  # 404 or 410: twice in a row means the link is lost
    BOT_WALL = "bot_wall"
    TRUNCATED = "truncated"  # no link in the part of a huge page we read


@dataclass(frozen=True, slots=True)
class FoundAnchor:
    href: str
    text: str
    rel: tuple[str, ...]
    dofollow: bool
    url: str  # the href resolved and normalized
    # "text" or "image" (placement.TEXT, placement.IMAGE).
    kind: str = TEXT
    # One of placement.PLACEMENTS, or None when the page was too deeply nested
    # for a tree (the streaming fallback) and so where the link sits is not
    # known: a guess would raise "moved out of the content" alerts for nothing.
    placement: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "href": self.href,
            "text": self.text,
            # The attribute's own form: every token kept, space-separated, so
            # nofollow, ugc and sponsored stay apart ("nofollow ugc").
            "rel": " ".join(self.rel),
            "dofollow": self.dofollow,
            "kind": self.kind,
            "placement": self.placement,
        }


@dataclass(frozen=True, slots=True)
class Flags:
    noindex: bool = False
    canonical: str | None = None  # set only when the canonical is another page
    robots_txt_blocked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "noindex": self.noindex,
            "canonical": self.canonical,
            "robots_txt_blocked": self.robots_txt_blocked,
        }


@dataclass(frozen=True, slots=True)
class Difference:
    """How the page differs from what was agreed for this backlink."""

    kind: str  # "anchor_text", "target" or "rel"
    expected: str
    found: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "expected": self.expected, "found": list(self.found)}


@dataclass(frozen=True, slots=True)
class VerificationResult:
    source_url: str
    target_url: str
    verdict: Verdict
    http_status: int | None
    final_url: str
    anchors: tuple[FoundAnchor, ...] = ()
    flags: Flags = field(default_factory=Flags)
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    error_kind: str | None = None
    elapsed_ms: int = 0
    bytes_read: int = 0
    truncated: bool = False
    page_hash: str = ""
    snippet: str = ""
    redirects: tuple[str, ...] = ()
    # Why the page was read as it was: page-level robots rules, a robots.txt that
    # could not be read, a meta refresh followed.
    notes: tuple[str, ...] = ()
    # Topical relevance of the page to the target (0-100) and the shared terms
    # that explain it; None when it was not computed (no reference to compare
    # with, the page unchanged since it was scored, or no text to read).
    relevance: int | None = None
    relevance_terms: tuple[str, ...] = ()
    # Why the page looks built by scripts (links.verification.scripted), on a
    # "missing" verdict read without rendering; None otherwise.
    script_built: str | None = None
    # The verdict was judged on the page as Chromium rendered it, in render_ms
    # (links.verification.render).
    rendered: bool = False
    render_ms: int = 0

    @property
    def gone(self) -> bool:
        """The page answered 404 or 410: the one error that can, repeated, mean "lost"."""
        return self.error_kind == VerdictErrorKind.GONE

    @property
    def transient(self) -> bool:
        """An error to retry with backoff, never a loss."""
        return self.verdict == Verdict.ERROR and not self.gone

    def to_json(self) -> dict[str, Any]:
        """The object ``manage.py verify_url --json`` prints: exactly DESIGN.md's keys."""
        return {
            "verdict": str(self.verdict),
            "http_status": self.http_status,
            "final_url": self.final_url,
            "anchors": [anchor.to_json() for anchor in self.anchors],
            "flags": self.flags.to_json(),
            "relevance": self.relevance,
            "relevance_terms": list(self.relevance_terms),
            "rendered": self.rendered,
            "error": self.error,
            "elapsed_ms": self.elapsed_ms,
        }

    def to_record(self) -> dict[str, Any]:
        """``to_json()`` plus the evidence a LinkCheck row keeps."""
        return {
            **self.to_json(),
            "error_kind": None if self.error_kind is None else str(self.error_kind),
            "gone": self.gone,
            "differences": [difference.to_json() for difference in self.differences],
            "bytes_read": self.bytes_read,
            "truncated": self.truncated,
            "page_hash": self.page_hash,
            "snippet": self.snippet,
            "redirects": list(self.redirects),
            "notes": list(self.notes),
            "render_ms": self.render_ms,
            "script_built": self.script_built,
        }


# A second look at a page read without running its scripts
# (links.verification.render.render_hook): given the page as fetched and the
# verdict on it, the verdict on the page as rendered, or None to keep this one.
RenderHook = Callable[[FetchResult, "VerificationResult"], "VerificationResult | None"]

# What a page's relevance is scored against: a Reference, or a function that
# reads one (verify_url reads the target page only once the source was read).
ReferenceSource = Reference | Callable[[], Reference | None]


_fetchers: dict[FetchConfig, Fetcher] = {}
_fetchers_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # Fetchers made before a fork hold sessions and locks of the parent's threads:
    # a forked worker starts with none.
    global _fetchers, _fetchers_lock
    _fetchers = {}
    _fetchers_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def shared_fetcher(config: FetchConfig) -> Fetcher:
    """One Fetcher per configuration for the process, so sessions and robots.txt are reused."""
    with _fetchers_lock:
        fetcher = _fetchers.get(config)
        if fetcher is None:
            fetcher = _fetchers[config] = Fetcher(config)
        return fetcher


# --- Judging ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Reading:
    page: ParsedPage
    matches: LinkMatches
    base: str


def _failure(fetched: FetchResult) -> tuple[str, str] | None:
    """(error kind, message) when no judgement is possible, else None."""
    if fetched.error_kind is not None and fetched.error_kind != ErrorKind.HTTP_STATUS:
        return str(fetched.error_kind), fetched.error or str(fetched.error_kind)
    status = fetched.status or 0
    if status in GONE_STATUSES:
        return VerdictErrorKind.GONE, f"the page answered {status}"
    wall = _challenge(fetched)
    if wall is not None:
        return VerdictErrorKind.BOT_WALL, wall
    if status in BOT_WALL_STATUSES:
        return VerdictErrorKind.BOT_WALL, f"the page answered {status}, as bot walls do"
    if not 200 <= status < 300:
        return ErrorKind.HTTP_STATUS, f"the page answered {status}"
    return None


def _challenge(fetched: FetchResult) -> str | None:
    if (fetched.header("cf-mitigated") or "").strip().lower() == "challenge":
        return "a Cloudflare challenge answered instead of the page"
    head = fetched.body[: 32 * 1024]
    match = _CHALLENGE_TITLES.search(head)
    if match is not None:
        title = _TAG.sub(b"", match.group(0)).decode("ascii", "replace").strip()
        return f"a bot-check page ({title!r}) answered instead of the page"
    if len(fetched.body) < 16 * 1024 and _CHALLENGE_MARKERS.search(head):
        return "a bot-check page answered instead of the page"
    return None


def read(fetched: FetchResult, target: Target) -> _Reading:
    """Parse a fetched page and find the anchors that match ``target``."""
    page = parse_html(fetched.body, fetched.encoding or "utf-8")
    base = effective_base(fetched.final_url, page.base_href)
    matches = find_links(target, page.hrefs, page_url=fetched.final_url, base_href=page.base_href)
    return _Reading(page, matches, base)


def _canonical_elsewhere(fetched: FetchResult, reading: _Reading) -> str | None:
    candidate = reading.page.canonical
    if not candidate:
        for value in fetched.header_values("link"):
            candidate = link_header_canonical(value)
            if candidate is not None:
                break
    if not candidate:
        return None
    resolved = resolve_href(candidate, reading.base)
    if resolved is None:
        return None
    try:
        same = url_key(resolved) == url_key(fetched.final_url)
    except InvalidURL:
        return None
    return None if same else resolved


def link_header_canonical(value: str) -> str | None:
    """The first URI of a ``Link`` header value whose rel includes ``canonical``.

    RFC 8288 syntax read with string methods, one pass: ``<uri>; param; ...``
    link-values separated by commas. A comma inside ``<...>`` is part of the
    URI; a comma inside a quoted parameter is taken as a separator, which can
    only lose a canonical, never invent one.
    """
    position = 0
    while True:
        start = value.find("<", position)
        if start < 0:
            return None
        end = value.find(">", start + 1)
        if end < 0:
            return None
        comma = value.find(",", end + 1)
        stop = len(value) if comma < 0 else comma
        params = value[end + 1 : stop]
        if params.lstrip().startswith(";"):
            for param in params.split(";"):
                name, equals, rel = param.partition("=")
                rels = rel.strip().strip('"').lower().split() if equals else ()
                if name.strip().lower() == "rel" and "canonical" in rels:
                    return value[start + 1 : end]
        if comma < 0:
            return None
        position = comma + 1


def _same_text(found: str, expected: str) -> bool:
    return " ".join(found.split()).casefold() == " ".join(expected.split()).casefold()


def _differences(
    target: Target,
    verdict: Verdict,
    anchors: list[FoundAnchor],
    same_site: list[str],
    directives: PageDirectives,
    expected_anchor_text: str | None,
    expected_dofollow: bool,
) -> list[Difference]:
    differences: list[Difference] = []
    if not anchors:
        if same_site and not target.is_domain:
            differences.append(Difference("target", target.url, tuple(same_site[:10])))
        return differences
    if expected_anchor_text and not any(_same_text(a.text, expected_anchor_text) for a in anchors):
        differences.append(
            Difference("anchor_text", expected_anchor_text, tuple(a.text for a in anchors))
        )
    if expected_dofollow and verdict == Verdict.NOFOLLOW:
        found = {" ".join(a.rel) for a in anchors if a.rel}
        found.update(directives.sources if directives.nofollow else ())
        differences.append(Difference("rel", "dofollow", tuple(sorted(found))))
    elif not expected_dofollow and verdict == Verdict.LIVE:
        differences.append(Difference("rel", "nofollow", ("dofollow",)))
    return differences


def _error_result(
    source_url: str,
    target: Target,
    fetched: FetchResult,
    kind: str,
    message: str,
    redirects: list[Redirect],
    started: float,
) -> VerificationResult:
    return VerificationResult(
        source_url=source_url,
        target_url=target.url,
        verdict=Verdict.ERROR,
        http_status=fetched.status,
        final_url=fetched.final_url,
        error=message,
        error_kind=kind,
        elapsed_ms=round((time.monotonic() - started) * 1000),
        bytes_read=fetched.bytes_read,
        truncated=fetched.truncated,
        page_hash=hashlib.sha256(fetched.body).hexdigest() if fetched.body else "",
        redirects=tuple(hop.url for hop in redirects),
    )


def verify(
    source_url: str,
    target: Target | str,
    *,
    expected_anchor_text: str | None = None,
    expected_dofollow: bool = True,
    config: FetchConfig | None = None,
    fetcher: Fetcher | None = None,
    reference: ReferenceSource | None = None,
    relevance_unless_hash: str = "",
    render: RenderHook | None = None,
) -> VerificationResult:
    """Verify that ``source_url`` links to ``target``. Never raises for network trouble.

    With ``render``, a page that could be read is handed to it with its verdict,
    and what it returns (the verdict on the rendered page) replaces that one.

    With a ``reference`` (the target's text and keywords, or a function that
    reads them, called only once the page has been read) the page's topical
    relevance is scored too, unless the page's hash is ``relevance_unless_hash``
    (unchanged since it was last scored: the score would be the same).

    ``fetcher`` wins over ``config`` when both are given; with neither, the default
    FetchConfig is used. Limits per site are the caller's (``verify_many`` holds a
    slot of its limiter around each check).
    """
    if not isinstance(target, Target):
        target = Target.page(target)
    fetcher = fetcher or shared_fetcher(config or FetchConfig())
    started = time.monotonic()
    fetched, reading, redirects, notes = _fetch_and_read(fetcher, source_url, target)
    robots: RobotsResult | None = None
    if reading is not None:
        robots = fetcher.robots(fetched.final_url)
    if reading is None:
        failure = _failure(fetched) or (str(ErrorKind.PROTOCOL), "unreadable page")
        return _error_result(source_url, target, fetched, *failure, redirects, started)
    result = judge(
        source_url,
        target,
        fetched,
        reading,
        robots=robots,
        redirects=redirects,
        notes=notes,
        started=started,
        expected_anchor_text=expected_anchor_text,
        expected_dofollow=expected_dofollow,
        reference=reference,
        relevance_unless_hash=relevance_unless_hash,
    )
    if render is not None:
        return render(fetched, result) or result
    return result


def judge(
    source_url: str,
    target: Target,
    fetched: FetchResult,
    reading: _Reading,
    *,
    robots: RobotsResult | None,
    redirects: list[Redirect],
    notes: list[str],
    started: float,
    expected_anchor_text: str | None = None,
    expected_dofollow: bool = True,
    place: bool = True,
    reference: ReferenceSource | None = None,
    relevance_unless_hash: str = "",
) -> VerificationResult:
    """The verdict on a page already fetched and read (``read``): what ``verify``
    does after the network. ``place=False`` skips placement and kind, for the
    benchmark that measures what they cost (tests/benchmarks/bench_placement.py)."""

    directives = page_directives(reading.page, fetched.x_robots_tag)
    anchors: list[FoundAnchor] = []
    # Only the matching anchors are placed (a few on a page, ~20 us each), with
    # one cache for the ancestors they share.
    ancestors: dict[Any, Any] = {}
    for index, url in reading.matches.exact:
        found = reading.page.anchors[index]
        passes = not directives.nofollow and NOT_PASSING.isdisjoint(found.rel)
        if not place:
            kind, placement = TEXT, None
        elif found.element is not None:
            kind, placement = kind_of(found.element), placement_of(found.element, cache=ancestors)
        else:
            kind, placement = found.kind or TEXT, None
        anchors.append(FoundAnchor(found.href, found.text, found.rel, passes, url, kind, placement))
    if not anchors and fetched.truncated:
        return _error_result(
            source_url,
            target,
            fetched,
            VerdictErrorKind.TRUNCATED,
            f"no link in the first {len(fetched.body)} bytes of a longer page",
            redirects,
            started,
        )
    script_built = None
    if not anchors:
        verdict = Verdict.MISSING
        # Only here: a page whose link was found needs no second look.
        script_built = script_signs(
            fetched.body, reading.page.root, len(reading.page.anchors)
        ).reason
    elif any(anchor.dofollow for anchor in anchors):
        verdict = Verdict.LIVE
    else:
        verdict = Verdict.NOFOLLOW

    same_site = [url for _index, url in reading.matches.same_site]
    evidence = _evidence_anchor(reading, anchors)
    page_hash = hashlib.sha256(fetched.body).hexdigest()
    relevance = None
    if reference is not None and page_hash != relevance_unless_hash:
        # Scoring walks the whole tree (a few ms, about a parse): done only when
        # the caller asks for it, not on every check of an unchanged page.
        compared = reference if isinstance(reference, Reference) else reference()
        if compared is not None:
            relevance = relevance_of(reading.page, compared)
    notes.extend(directives.sources)
    if robots is not None and robots.note:
        notes.append(robots.note)
    return VerificationResult(
        source_url=source_url,
        target_url=target.url,
        verdict=verdict,
        http_status=fetched.status,
        final_url=fetched.final_url,
        anchors=tuple(anchors),
        flags=Flags(
            noindex=directives.noindex,
            canonical=_canonical_elsewhere(fetched, reading),
            robots_txt_blocked=robots is not None and not robots.allowed,
        ),
        differences=tuple(
            _differences(
                target,
                verdict,
                anchors,
                same_site,
                directives,
                expected_anchor_text,
                expected_dofollow,
            )
        ),
        elapsed_ms=round((time.monotonic() - started) * 1000),
        bytes_read=fetched.bytes_read,
        truncated=fetched.truncated,
        page_hash=page_hash,
        snippet=snippet(evidence, reading.page) if evidence is not None else "",
        redirects=tuple(hop.url for hop in redirects),
        notes=tuple(notes),
        relevance=None if relevance is None else relevance.score,
        relevance_terms=() if relevance is None else relevance.terms,
        script_built=script_built,
    )


def _evidence_anchor(reading: _Reading, anchors: list[FoundAnchor]) -> Anchor | None:
    """The anchor whose surroundings are kept as evidence: a passing one if any."""
    exact = reading.matches.exact
    if exact:
        passing = [i for (i, _url), a in zip(exact, anchors, strict=True) if a.dofollow]
        return reading.page.anchors[passing[0] if passing else exact[0][0]]
    if reading.matches.same_site:
        return reading.page.anchors[reading.matches.same_site[0][0]]
    return None


def _fetch_and_read(
    fetcher: Fetcher, source_url: str, target: Target
) -> tuple[FetchResult, _Reading | None, list[Redirect], list[str]]:
    """Fetch the page, and follow its meta refresh when the link is not on it.

    Google treats a meta refresh as a redirect; a page that only bounces the
    reader elsewhere has the link, if anywhere, on the page it bounces to.
    """
    fetched = fetcher.fetch(source_url, html_only=True)
    redirects = list(fetched.redirects)
    notes: list[str] = []
    while True:
        if _failure(fetched) is not None:
            return fetched, None, redirects, notes
        reading = read(fetched, target)
        refresh = reading.page.refresh
        if reading.matches.exact or refresh is None or refresh.url is None:
            return fetched, reading, redirects, notes
        next_url = resolve_href(refresh.url, reading.base)
        if next_url is None or next_url == fetched.final_url:
            return fetched, reading, redirects, notes
        if len(redirects) >= fetcher.config.max_redirects:
            return fetched, reading, redirects, notes
        redirects.append(Redirect(fetched.final_url, fetched.status or 0, refresh.url))
        notes.append(f"followed a meta refresh to {next_url}")
        fetched = fetcher.fetch(next_url, html_only=True)
        redirects.extend(fetched.redirects)


# --- Many at once -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One (source, target) pair to verify, with the caller's own key (a backlink id)."""

    source_url: str
    target: Target | str
    expected_anchor_text: str | None = None
    expected_dofollow: bool = True
    key: Hashable | None = None
    # Score the page's relevance to this reference, unless its hash is
    # relevance_unless_hash (see verify).
    reference: Reference | None = None
    relevance_unless_hash: str = ""


def verify_many(
    checks: Iterable[Check],
    *,
    config: FetchConfig | None = None,
    fetcher: Fetcher | None = None,
    max_workers: int = 8,
    limiter: HostLimiter | None = None,
) -> Iterator[tuple[Check, VerificationResult]]:
    """Verify many pairs on the host-fair pool; yield each (check, result) as it
    completes. Each check holds a slot of ``limiter`` for its source site while it
    runs; HostBusy from the limiter ends the iteration (the caller leaves the
    rest for later). Each thread keeps its own session and parser.
    """
    fetcher = fetcher or shared_fetcher(config or FetchConfig())

    def run(check: Check) -> VerificationResult:
        return verify(
            check.source_url,
            check.target,
            expected_anchor_text=check.expected_anchor_text,
            expected_dofollow=check.expected_dofollow,
            fetcher=fetcher,
            reference=check.reference,
            relevance_unless_hash=check.relevance_unless_hash,
        )

    return host_fair(
        run,
        checks,
        url_of=lambda check: check.source_url,
        limiter=limiter,
        max_workers=max_workers,
        thread_name_prefix="anchorage-verify",
    )
