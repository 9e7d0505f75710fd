"""Topical relevance of backlinks' and prospects' pages: the database side.

The scoring itself is links.verification.relevance (no Django). Here: our target
pages' text, read through the verifier's fetcher and kept in TargetText (read
again every RELEVANCE_REFRESH_DAYS, never per check); the reference each check
compares with; when a check needs to score at all; and what the background
scoring of prospects reads and writes.

Scoring walks the whole page tree, about the cost of the parse, so a check
scores only when the answer may have changed: never scored, our target's text
changed since, or the score is older than RELEVANCE_RESCORE_DAYS and the page
changed since the last check.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.models import TargetPage
from links.hostlimit import HostBusy
from links.models import Backlink, TargetText
from links.verification.fetch import Fetcher
from links.verification.relevance import Reference, Terms, read_target
from links.verification.urls import InvalidURL, Target, host_of
from links.verification.verdict import Check, VerificationResult
from outreach.models import Prospect

log = logging.getLogger(__name__)

HostSlot = Callable[[str], AbstractContextManager[Any]]

# Prospects claimed by one run of the background scoring, and per task.
PROSPECT_CLAIM_LIMIT = 2000
PROSPECT_BATCH_SIZE = 50


def refresh_age() -> timedelta:
    return timedelta(days=settings.RELEVANCE_REFRESH_DAYS)


def rescore_age() -> timedelta:
    return timedelta(days=settings.RELEVANCE_RESCORE_DAYS)


# --- Our target pages' text ----------------------------------------------------------


def target_texts(
    urls: Iterable[str],
    *,
    fetcher: Fetcher,
    host_slot: HostSlot | None = None,
    now: datetime | None = None,
) -> dict[str, TargetText]:
    """The stored text of each target URL, read again first where it is missing or stale.

    Reads happen outside any transaction (a fetch may take seconds). Two workers
    reading the same page at once both write the same row: harmless.
    """
    now = now or timezone.now()
    wanted = set(urls)
    rows = {row.url: row for row in TargetText.objects.filter(url__in=wanted)}
    max_age = refresh_age()
    for url in sorted(wanted):
        row = rows.get(url)
        if row is not None and not row.is_stale(now=now, max_age=max_age):
            continue
        try:
            reading = _read(fetcher, url, host_slot)
        except HostBusy:
            continue  # the old text, if any, serves until the next batch
        terms = reading.terms.to_json() if reading.terms is not None else {}
        changed = row is None or row.terms != terms
        rows[url], _created = TargetText.objects.update_or_create(
            url=url,
            defaults={
                "text": reading.text,
                "terms": terms,
                "fetched_at": now,
                "error": reading.error[:2000],
                "changed_at": now if changed else row.changed_at,
            },
        )
    return rows


def _read(fetcher: Fetcher, url: str, host_slot: HostSlot | None) -> Any:
    if host_slot is None:
        return read_target(fetcher, url)
    try:
        host = host_of(url)
    except InvalidURL:
        host = ""
    with host_slot(host):
        return read_target(fetcher, url)


def _reference(texts: Sequence[TargetText | None], keywords: Iterable[str]) -> Reference | None:
    terms = [Terms.from_json(text.terms) for text in texts if text is not None and text.terms]
    return Reference.build(terms, keywords)


# --- Backlinks -----------------------------------------------------------------------


def target_url_of(backlink: Backlink) -> str:
    """The page whose text a backlink's page is compared with (a domain target: its home page)."""
    page = backlink.target_page
    return page.url if page is not None and page.is_domain else backlink.target_url


def _unless_hash(backlink: Backlink, text: TargetText, now: datetime) -> str | None:
    """None: no scoring needed; "": score; a hash: score unless the page still has it."""
    scored = backlink.relevance_scored_at
    if scored is None or backlink.relevance is None or text.changed_at > scored:
        return ""
    if now - scored >= rescore_age():
        return backlink.last_page_hash
    return None


def with_relevance(
    backlinks: Sequence[Backlink],
    checks: Sequence[Check],
    *,
    fetcher: Fetcher,
    host_slot: HostSlot | None = None,
    now: datetime | None = None,
) -> list[Check]:
    """``checks`` (one per backlink, same order), with a reference to score
    against where a check needs to score."""
    now = now or timezone.now()
    texts = target_texts(
        {target_url_of(b) for b in backlinks}, fetcher=fetcher, host_slot=host_slot, now=now
    )
    references: dict[tuple[str, tuple[str, ...]], Reference | None] = {}
    result: list[Check] = []
    for backlink, check in zip(backlinks, checks, strict=True):
        url = target_url_of(backlink)
        text = texts.get(url)
        unless = None if text is None or not text.terms else _unless_hash(backlink, text, now)
        if unless is None:
            result.append(check)
            continue
        page = backlink.target_page
        keywords = tuple(page.keyword_list) if page is not None else ()
        key = (url, keywords)
        if key not in references:
            references[key] = _reference([text], keywords)
        reference = references[key]
        if reference is None:
            result.append(check)
        else:
            result.append(
                dataclasses.replace(check, reference=reference, relevance_unless_hash=unless)
            )
    return result


# --- Prospects -----------------------------------------------------------------------


def claim_unscored_prospects(
    *, limit: int = PROSPECT_CLAIM_LIMIT, now: datetime | None = None
) -> list[int]:
    """Claim prospects never read for relevance (new or imported). The claim is
    the attempt's time: a prospect whose page cannot be read is not retried in a
    loop, and concurrent runs skip each other's rows."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Prospect.objects.filter(relevance_scored_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Prospect.objects.filter(pk__in=ids).update(relevance_scored_at=now)
    return ids


def prospect_checks(
    prospects: Sequence[Prospect],
    *,
    fetcher: Fetcher,
    host_slot: HostSlot | None = None,
    now: datetime | None = None,
) -> list[Check]:
    """One verifier check per prospect whose campaign has something to compare
    with: its page against the target page it is offered (a broken-link
    prospect), else against all of its campaign's target pages and keywords."""
    campaign_ids = {p.campaign_id for p in prospects}
    pages: dict[int, list[TargetPage]] = {}
    for page in TargetPage.objects.filter(campaign_id__in=campaign_ids):
        pages.setdefault(page.campaign_id, []).append(page)
    offered = {p.offered_target for p in prospects if p.offered_target is not None}
    urls = {page.url for group in pages.values() for page in group} | {t.url for t in offered}
    texts = target_texts(urls, fetcher=fetcher, host_slot=host_slot, now=now)
    references: dict[Any, Reference | None] = {}
    checks: list[Check] = []
    for prospect in prospects:
        chosen = (
            [prospect.offered_target]
            if prospect.offered_target is not None
            else pages.get(prospect.campaign_id, [])
        )
        key = tuple(page.pk for page in chosen)
        if key not in references:
            keywords = [k for page in chosen for k in page.keyword_list]
            references[key] = _reference([texts.get(page.url) for page in chosen], keywords)
        reference = references[key]
        if reference is None:
            continue
        try:
            target = Target.domain(prospect.campaign.site)
        except InvalidURL:
            continue
        # The verifier reads the page as for a backlink check (same fetcher,
        # host limits and parse); the verdict about a link is not used.
        checks.append(
            Check(source_url=prospect.url, target=target, key=prospect.pk, reference=reference)
        )
    return checks


def record_prospect_scores(
    results: Iterable[tuple[int, VerificationResult]], *, now: datetime | None = None
) -> int:
    """Store the scores read; a page that could not be read keeps relevance null."""
    now = now or timezone.now()
    updated = 0
    for prospect_id, result in results:
        if result.relevance is None:
            continue
        updated += Prospect.objects.filter(pk=prospect_id).update(
            relevance=result.relevance,
            relevance_terms=list(result.relevance_terms),
            relevance_scored_at=now,
            # Relevance is one of the quality score's inputs: the quality refresh
            # picks the prospect up again.
            quality_stale=True,
        )
    return updated
