"""Run the verifier for claimed backlinks, with the project's settings.

The verifier itself knows nothing of Django; this module builds its config from
settings, picks the cross-worker host limit, and turns results into outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from urllib.parse import urlsplit

import redis
from django.conf import settings

from links import relevance
from links.hostlimit import LocalHostLimiter, RedisHostLimiter
from links.models import Backlink
from links.outcome import CheckOutcome
from links.verification.fetch import FetchConfig
from links.verification.render.engine import (
    KILL_GRACE_SECONDS,
    Renderer,
    RenderLimits,
    chromium_path,
    shared_renderer,
)
from links.verification.render.verify import verify_rendered
from links.verification.urls import InvalidURL, Target, domain_of, registrable_domain
from links.verification.verdict import Check, shared_fetcher, verify_many
from outreach.models import Prospect


def fetch_config() -> FetchConfig:
    return FetchConfig(
        timeout=float(settings.VERIFIER_TIMEOUT_SECONDS),
        max_bytes=settings.VERIFIER_MAX_BYTES,
        max_redirects=settings.VERIFIER_MAX_REDIRECTS,
        user_agent=settings.VERIFIER_USER_AGENT,
        allow_private_networks=settings.VERIFIER_ALLOW_PRIVATE_NETWORKS,
    )


@cache
def _limiter(redis_url: str, limit: int, hold: float) -> RedisHostLimiter | LocalHostLimiter:
    # A slot is held for one fetch at most, so a holder that died frees it after
    # the fetch's own timeout (plus slack).
    if redis_url:
        # Blocking: under load a check waits for a free connection instead of
        # failing with "too many connections".
        pool = redis.BlockingConnectionPool.from_url(redis_url, max_connections=64, timeout=30)
        client = redis.Redis(connection_pool=pool)
        return RedisHostLimiter(client, limit=limit, hold_seconds=hold, wait_seconds=hold * 4)
    return LocalHostLimiter(limit=limit, wait_seconds=hold * 4)


def host_limiter() -> RedisHostLimiter | LocalHostLimiter:
    return _limiter(
        settings.REDIS_URL,
        settings.VERIFIER_PER_HOST_LIMIT,
        float(settings.VERIFIER_TIMEOUT_SECONDS) + 5,
    )


def render_host_limiter() -> RedisHostLimiter | LocalHostLimiter:
    """The same sites' slots as host_limiter(), held around a whole render: the
    raw fetch, the render and its grace before the browser is killed. With the
    fetch's hold, a render outlasting it would let another worker take the slot."""
    if not settings.REDIS_URL:
        # The local limiter holds until release: share host_limiter's counts.
        return host_limiter()
    hold = (
        float(settings.VERIFIER_TIMEOUT_SECONDS)
        + float(settings.RENDER_TIMEOUT_SECONDS)
        + KILL_GRACE_SECONDS
        + 5
    )
    return _limiter(settings.REDIS_URL, settings.VERIFIER_PER_HOST_LIMIT, hold)


def target_of(backlink: Backlink) -> Target:
    page = backlink.target_page
    if page is not None and page.is_domain:
        return Target.domain(page.url)
    return Target.page(backlink.target_url)


def check_for(backlink: Backlink) -> Check:
    return Check(
        source_url=backlink.source_url,
        target=target_of(backlink),
        expected_anchor_text=backlink.expected_anchor_text or None,
        expected_dofollow=backlink.expected_dofollow,
        key=backlink.pk,
    )


def check_many(backlinks: list[Backlink]) -> Iterator[tuple[int, CheckOutcome]]:
    """Verify backlinks concurrently; yield (backlink id, outcome) as each finishes.
    Checks that need a relevance score get their target's text to compare with."""
    fetcher = shared_fetcher(fetch_config())
    limiter = host_limiter()
    checks = [check_for(backlink) for backlink in backlinks]
    if settings.RELEVANCE_ENABLED:
        checks = relevance.with_relevance(
            backlinks, checks, fetcher=fetcher, host_slot=limiter.slot
        )
    results = verify_many(
        checks, fetcher=fetcher, max_workers=settings.VERIFIER_CONCURRENCY, limiter=limiter
    )
    for check, result in results:
        yield int(check.key), CheckOutcome.from_result(result)


def render_limits() -> RenderLimits:
    return RenderLimits(
        timeout=float(settings.RENDER_TIMEOUT_SECONDS),
        memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB,
        max_requests=settings.RENDER_MAX_REQUESTS,
        user_agent=settings.VERIFIER_USER_AGENT,
        max_bytes=settings.VERIFIER_MAX_BYTES,
    )


def renderer() -> Renderer:
    """This process's Chromium (started on first use), or one that is not
    ``available`` when Chromium is not installed."""
    return shared_renderer(render_limits(), chromium_path(settings.RENDER_CHROMIUM_PATH))


def render_check(backlink: Backlink) -> CheckOutcome:
    """Check one backlink with the page rendered in Chromium when the link is
    not in its raw HTML (the render queue's check). Holds a slot of the page's
    site for the whole render, and one of each other site a request goes to;
    HostBusy from the page's own slot ends the batch, as for any check.

    Without Chromium the check is the raw one: better a raw verdict than a
    claim that is never recorded."""
    fetcher = shared_fetcher(fetch_config())
    limiter = host_limiter()
    site = domain_of(backlink.source_url)

    def slot(host: str) -> AbstractContextManager[object]:
        try:
            same = registrable_domain(host) == site
        except (InvalidURL, ValueError):
            same = False
        # The page's own site: its slot is held already, around the render.
        return nullcontext() if same else limiter.slot(host)

    chromium = renderer()
    with render_host_limiter().slot(urlsplit(backlink.source_url).hostname or ""):
        result = verify_rendered(
            backlink.source_url,
            target_of(backlink),
            renderer=chromium,
            when="missing" if chromium.available else "never",
            fetcher=fetcher,
            expected_anchor_text=backlink.expected_anchor_text or None,
            expected_dofollow=backlink.expected_dofollow,
            host_slot=slot,
        )
    return CheckOutcome.from_result(result)


def score_prospects(prospect_ids: list[int]) -> int:
    """Read these prospects' pages and store their relevance; returns how many were scored.

    Through the verifier's pool: RELEVANCE_CONCURRENCY pages at once, each site
    within the cross-worker per-site limit, as checks are.
    """
    prospects = list(
        Prospect.objects.filter(pk__in=prospect_ids).select_related("campaign", "offered_target")
    )
    if not prospects:
        return 0
    fetcher = shared_fetcher(fetch_config())
    limiter = host_limiter()
    checks = relevance.prospect_checks(prospects, fetcher=fetcher, host_slot=limiter.slot)
    results = verify_many(
        checks, fetcher=fetcher, max_workers=settings.RELEVANCE_CONCURRENCY, limiter=limiter
    )
    return relevance.record_prospect_scores((int(check.key), result) for check, result in results)
