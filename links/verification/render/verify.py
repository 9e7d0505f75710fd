"""The second look: judge a page again as Chromium renders it.

``render_hook`` builds the ``render`` argument of ``verdict.verify``. When
rendering is called for (``when``), the page is rendered from the bytes already
fetched, every other request it makes goes through the same fetcher (and the
caller's per-site slot), and the serialized DOM is judged by the same code as
any page (``verdict.read`` and ``verdict.judge``). A link found so is
``live``/``nofollow`` with ``rendered``; a page that cannot be rendered within
the limit is an ``error`` (we could not tell), never ``missing``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Literal
from urllib.parse import urlsplit

from links.verification.fetch import FetchConfig, Fetcher, FetchResult
from links.verification.render.engine import Renderer, RenderOutcome
from links.verification.urls import Target
from links.verification.verdict import (
    ReferenceSource,
    RenderHook,
    Verdict,
    VerificationResult,
    judge,
    read,
    shared_fetcher,
    verify,
)

# never: raw HTML only. auto: render a page whose link is missing and that looks
# script-built. missing: render whenever the link is missing (a backlink known to
# need it). always: render every page that could be read.
When = Literal["never", "auto", "missing", "always"]
WHEN = ("never", "auto", "missing", "always")
HostSlot = Callable[[str], AbstractContextManager[object]]


def needles_for(target: Target) -> list[str]:
    """Lower-cased strings an anchor to ``target`` has in its resolved href: the
    host without ``www.``. Only a hint to stop waiting; the verdict matches."""
    host = (urlsplit(target.url).hostname or "").lower()
    host = host.removeprefix("www.")
    needles = [host] if host else []
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = host
    if ascii_host and ascii_host != host:
        needles.append(ascii_host)
    return needles


def _wanted(when: When, result: VerificationResult) -> bool:
    if when == "never" or result.verdict == Verdict.ERROR:
        return False
    if when == "always":
        return True
    if result.verdict != Verdict.MISSING:
        return False
    return when == "missing" or result.script_built is not None


def render_hook(
    *,
    renderer: Renderer,
    fetcher: Fetcher,
    target: Target,
    when: When = "auto",
    expected_anchor_text: str | None = None,
    expected_dofollow: bool = True,
    host_slot: HostSlot | None = None,
) -> RenderHook:
    def fetch(url: str) -> FetchResult:
        host = urlsplit(url).hostname or ""
        with host_slot(host) if host_slot is not None else nullcontext():
            return fetcher.fetch(url)

    def hook(fetched: FetchResult, result: VerificationResult) -> VerificationResult | None:
        if not _wanted(when, result):
            return None
        outcome = renderer.render(fetched.final_url, fetched, fetch, needles_for(target))
        return rendered_result(
            result,
            outcome,
            fetched,
            target,
            expected_anchor_text=expected_anchor_text,
            expected_dofollow=expected_dofollow,
            max_bytes=fetcher.config.max_bytes,
        )

    return hook


def rendered_result(
    raw: VerificationResult,
    outcome: RenderOutcome,
    fetched: FetchResult,
    target: Target,
    *,
    expected_anchor_text: str | None,
    expected_dofollow: bool,
    max_bytes: int,
) -> VerificationResult:
    """The verdict on the rendered page, with what the raw reading knew of the
    page's headers and robots.txt."""
    elapsed = raw.elapsed_ms + outcome.elapsed_ms
    if outcome.error_kind is not None:
        return dataclasses.replace(
            raw,
            verdict=Verdict.ERROR,
            anchors=(),
            differences=(),
            error=outcome.error,
            error_kind=outcome.error_kind,
            elapsed_ms=elapsed,
            rendered=True,
            render_ms=outcome.elapsed_ms,
        )
    body = outcome.html.encode("utf-8")
    page = FetchResult(
        url=fetched.url,
        final_url=outcome.final_url or fetched.final_url,
        status=fetched.status,
        # The headers that judge reads (X-Robots-Tag, Link) are the document's.
        headers=(
            *((k, v) for k, v in fetched.headers if k != "content-type"),
            ("content-type", "text/html; charset=utf-8"),
        ),
        body=body[:max_bytes],
        encoding="utf-8",
        encoding_source="rendered",
        content_type="text/html; charset=utf-8",
        bytes_read=fetched.bytes_read,
        truncated=len(body) > max_bytes,
    )
    started = time.monotonic() - elapsed / 1000
    notes = [*raw.notes, f"rendered in Chromium: {outcome.fetched} requests answered, "
             f"{outcome.aborted} refused"]  # fmt: skip
    if outcome.refused:
        notes.append(f"refused private or blocked addresses: {', '.join(outcome.refused[:3])}")
    judged = judge(
        raw.source_url,
        target,
        page,
        read(page, target),
        robots=None,
        redirects=[],
        notes=notes,
        started=started,
        expected_anchor_text=expected_anchor_text,
        expected_dofollow=expected_dofollow,
    )
    if judged.verdict == Verdict.MISSING and outcome.incomplete:
        # Some of what the page asked for was not fetched: the link may be in it.
        judged = dataclasses.replace(
            judged,
            verdict=Verdict.ERROR,
            error=f"rendered without all its requests ({outcome.incomplete})",
            error_kind="render_incomplete",
            flags=raw.flags,
        )
    else:
        flags = dataclasses.replace(judged.flags, robots_txt_blocked=raw.flags.robots_txt_blocked)
        judged = dataclasses.replace(judged, flags=flags)
    # What the raw reading knew of the page stays, whatever the rendered verdict.
    return dataclasses.replace(
        judged,
        redirects=raw.redirects,
        rendered=True,
        render_ms=outcome.elapsed_ms,
        script_built=raw.script_built,
        relevance=raw.relevance,
        relevance_terms=raw.relevance_terms,
    )


def verify_rendered(
    source_url: str,
    target: Target | str,
    *,
    renderer: Renderer,
    when: When = "auto",
    config: FetchConfig | None = None,
    fetcher: Fetcher | None = None,
    expected_anchor_text: str | None = None,
    expected_dofollow: bool = True,
    host_slot: HostSlot | None = None,
    reference: ReferenceSource | None = None,
) -> VerificationResult:
    """``verdict.verify`` with the second look ``when`` calls for it."""
    if not isinstance(target, Target):
        target = Target.page(target)
    fetcher = fetcher or shared_fetcher(config or FetchConfig())
    hook = render_hook(
        renderer=renderer,
        fetcher=fetcher,
        target=target,
        when=when,
        expected_anchor_text=expected_anchor_text,
        expected_dofollow=expected_dofollow,
        host_slot=host_slot,
    )
    return verify(
        source_url,
        target,
        expected_anchor_text=expected_anchor_text,
        expected_dofollow=expected_dofollow,
        fetcher=fetcher,
        reference=reference,
        render=None if when == "never" else hook,
    )
