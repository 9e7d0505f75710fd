"""The broken-link finder's operations: start a scan, run it, turn a dead link into
a prospect, re-check a prospect's dead link before the email goes out."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign, TargetPage
from config.enqueue import TaskRef
from links import budgets
from links.checking import fetch_config, host_limiter
from links.prospecting.models import (
    BrokenLinkScan,
    DeadLink,
    DeadLinkCheck,
    DeadLinkVerdict,
    ScanPage,
    ScanState,
)
from links.verification.fetch import FetchConfig, Fetcher
from links.verification.outbound import (
    LinkOutcome,
    LinkStatus,
    OutboundLink,
    check_link,
    check_links,
    outbound_links,
    refusal_reason,
)
from links.verification.pool import HostBusy
from links.verification.urls import InvalidURL, domain_of, normalize_url, url_key
from links.verification.verdict import shared_fetcher
from outreach.models import Kind, Prospect
from outreach.services import create_prospect

if TYPE_CHECKING:
    from campaigns.models import User

log = logging.getLogger(__name__)

# robots.txt groups name crawlers by product token, not by the whole User-Agent.
ROBOTS_AGENT = "AnchorageBot"
# How often a running scan writes its progress and looks for a cancel request.
PROGRESS_EVERY_SECONDS = 0.5

# Bound by links.prospecting.tasks, which imports this module.
scan_task: TaskRef[[int]] = TaskRef("links.prospecting.tasks.run_broken_link_scan")
dead_link_check_task: TaskRef[[int]] = TaskRef("links.prospecting.tasks.check_dead_link")


class ScanCancelled(Exception):
    pass


def scan_fetch_config() -> FetchConfig:
    """The verifier's fetch settings (guard, user agent, byte cap), with the
    finder's own, shorter, timeout per link."""
    return replace(fetch_config(), timeout=float(settings.BROKEN_LINKS_TIMEOUT_SECONDS))


def scan_fetcher() -> Fetcher:
    return shared_fetcher(scan_fetch_config())


@dataclass
class PageInput:
    urls: list[str]
    errors: list[str]


def read_page_urls(text: str, *, limit: int | None = None) -> PageInput:
    """Resource-page URLs from a textarea, one per line: normalized, deduplicated,
    and each refused one explained."""
    limit = limit or settings.BROKEN_LINKS_MAX_PAGES
    urls: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()
    allow_private = settings.VERIFIER_ALLOW_PRIVATE_NETWORKS
    for line in text.splitlines():
        raw = line.strip()
        if not raw:
            continue
        if "://" not in raw and not raw.lower().startswith(("http:", "https:")) and "." in raw:
            raw = f"https://{raw}"
        reason = refusal_reason(raw, allow_private_networks=allow_private)
        if reason is not None:
            errors.append(f"{line.strip()[:200]}: {reason}")
            continue
        url = normalize_url(raw)
        if url_key(url) in seen:
            continue
        seen.add(url_key(url))
        urls.append(url)
    if len(urls) > limit:
        errors.append(f"At most {limit} pages per scan: you entered {len(urls)}.")
    return PageInput(urls, errors)


@transaction.atomic
def start_scan(
    campaign: Campaign, *, by: User | None, urls: Iterable[str], prospects: Iterable[Prospect] = ()
) -> BrokenLinkScan:
    """Create a scan of these pages (typed URLs and picked prospects' pages) and
    queue it once the rows are committed."""
    pages: list[tuple[str, Prospect | None]] = []
    seen: set[str] = set()
    for prospect in prospects:
        if prospect.url_key not in seen:
            seen.add(prospect.url_key)
            pages.append((prospect.url, prospect))
    for url in urls:
        key = url_key(url)
        if key not in seen:
            seen.add(key)
            pages.append((url, None))
    if not pages:
        raise ValidationError("Enter at least one page to scan, or pick a prospect.")
    if len(pages) > settings.BROKEN_LINKS_MAX_PAGES:
        raise ValidationError(f"At most {settings.BROKEN_LINKS_MAX_PAGES} pages per scan.")
    _check_scan_budgets(campaign, by)
    scan = BrokenLinkScan.objects.create(
        campaign=campaign, created_by=by, pages_total=len(pages), task_id=str(uuid.uuid4())
    )
    ScanPage.objects.bulk_create(
        ScanPage(scan=scan, url=url, prospect=prospect, position=index)
        for index, (url, prospect) in enumerate(pages)
    )
    transaction.on_commit(lambda: _enqueue(scan))
    return scan


def _check_scan_budgets(campaign: Campaign, by: User | None) -> None:
    """Scans queued or running at once: BROKEN_LINKS_SCANS_PER_USER for one
    member, BROKEN_LINKS_SCANS_PER_CAMPAIGN for one campaign. Raises OverBudget.

    Runs inside start_scan's transaction with the member's and the campaign's
    rows locked (in that order, always), so two starts racing for the last slot
    in two web processes are served one after the other and cannot both pass."""
    from campaigns.models import User

    if by is not None:
        User.objects.select_for_update().filter(pk=by.pk).exists()
    Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
    active = BrokenLinkScan.objects.active()
    per_user = settings.BROKEN_LINKS_SCANS_PER_USER
    if by is not None and per_user > 0 and active.filter(created_by=by).count() >= per_user:
        raise budgets.OverBudget(
            f"You already have {per_user} broken-link scan{'s' if per_user != 1 else ''} "
            "queued or running, the most one member may run at once. Wait for one to "
            "finish, or cancel one, then start this scan."
        )
    per_campaign = settings.BROKEN_LINKS_SCANS_PER_CAMPAIGN
    if per_campaign > 0 and active.filter(campaign=campaign).count() >= per_campaign:
        raise budgets.OverBudget(
            f"This campaign already has {per_campaign} broken-link "
            f"scan{'s' if per_campaign != 1 else ''} queued or running, the most at once. "
            "Wait for one to finish, or cancel one, then start this scan."
        )


def _enqueue(scan: BrokenLinkScan) -> None:
    scan_task.delay_as(scan.task_id, scan.pk)


def request_cancel(scan: BrokenLinkScan) -> None:
    """Ask a scan to stop. A queued scan stops at once; a running one at its next
    progress write, keeping what it found so far."""
    now = timezone.now()
    BrokenLinkScan.objects.filter(pk=scan.pk, state=ScanState.QUEUED).update(
        state=ScanState.CANCELLED, cancel_requested=True, finished_at=now
    )
    scan.refresh_from_db()
    if scan.stalled:
        # Nobody is running it any more (the worker died): nothing else would
        # ever finish it.
        BrokenLinkScan.objects.filter(pk=scan.pk, state=ScanState.RUNNING).update(
            state=ScanState.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            error="The scan stopped making progress (its worker stopped) and was cancelled.",
        )
    else:
        BrokenLinkScan.objects.filter(pk=scan.pk, state=ScanState.RUNNING).update(
            cancel_requested=True
        )
    scan.refresh_from_db()


class _Progress:
    """Throttled progress writes that also read the cancel flag."""

    def __init__(self, scan_id: int) -> None:
        self.scan_id = scan_id
        self.last = 0.0
        self.checked = 0

    def link_checked(self, *, force: bool = False) -> None:
        self.checked += 1
        self.flush(force=force)

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        BrokenLinkScan.objects.filter(pk=self.scan_id).update(
            links_checked=self.checked, heartbeat_at=timezone.now()
        )
        if BrokenLinkScan.objects.filter(pk=self.scan_id, cancel_requested=True).exists():
            raise ScanCancelled


def run_scan(scan_id: int, *, fetcher: Fetcher | None = None) -> BrokenLinkScan | None:
    """Run a queued scan to the end. Safe to call twice: only the call that moves
    the scan from queued to running does the work."""
    claimed = BrokenLinkScan.objects.filter(pk=scan_id, state=ScanState.QUEUED).update(
        state=ScanState.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    fetcher = fetcher or scan_fetcher()
    progress = _Progress(scan_id)
    state = ScanState.DONE
    found: dict[str, tuple[OutboundLink, list[ScanPage]]] = {}
    statuses: dict[str, LinkStatus] = {}
    try:
        found = _read_pages(scan_id, fetcher)
        statuses = _check_all(
            {key: link.url for key, (link, _) in found.items()}, fetcher, progress
        )
        progress.flush(force=True)
        maybe = {
            key: found[key][0].url
            for key, status in statuses.items()
            if status.outcome == LinkOutcome.MAYBE_DEAD
        }
        if maybe:
            _sleep_unless_cancelled(settings.BROKEN_LINKS_RETRY_SECONDS, progress)
            statuses.update(_check_all(maybe, fetcher, None))
    except ScanCancelled:
        state = ScanState.CANCELLED
        # Links judged maybe-dead once are shown only after their second check.
        statuses = {u: s for u, s in statuses.items() if s.outcome != LinkOutcome.MAYBE_DEAD}
    except Exception as exc:
        log.exception("broken-link scan %s failed", scan_id)
        BrokenLinkScan.objects.filter(pk=scan_id).update(
            state=ScanState.FAILED, error=f"The scan stopped on an error: {exc}"[:2000],
            finished_at=timezone.now(),
        )  # fmt: skip
        raise
    _record(scan_id, found, statuses, state, progress.checked)
    return BrokenLinkScan.objects.get(pk=scan_id)


def _sleep_unless_cancelled(seconds: float, progress: _Progress) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(PROGRESS_EVERY_SECONDS, max(0.0, end - time.monotonic())))
        progress.flush(force=True)


def _read_pages(scan_id: int, fetcher: Fetcher) -> dict[str, tuple[OutboundLink, list[ScanPage]]]:
    """Fetch each resource page (robots.txt and the host limit respected) and
    collect its outbound links, one entry per distinct URL across all pages:
    at most BROKEN_LINKS_MAX_LINKS_PER_PAGE of a page and
    BROKEN_LINKS_MAX_LINKS_PER_SCAN in all, each cap said in the scan's notice."""
    per_page = settings.BROKEN_LINKS_MAX_LINKS_PER_PAGE
    per_scan = settings.BROKEN_LINKS_MAX_LINKS_PER_SCAN
    found: dict[str, tuple[OutboundLink, list[ScanPage]]] = {}
    pages_capped = 0
    scan_capped = False
    slot = host_limiter().slot
    for page in ScanPage.objects.filter(scan_id=scan_id).order_by("position"):
        if BrokenLinkScan.objects.filter(pk=scan_id, cancel_requested=True).exists():
            raise ScanCancelled
        result = None
        if len(found) >= per_scan:
            scan_capped = True
            page.error = f"Not read: the scan already has {per_scan:,} links, its most."
        else:
            try:
                with slot(domain_of(page.url)):
                    robots = fetcher.robots(page.url, user_agent=ROBOTS_AGENT)
                    if robots.allowed:
                        result = outbound_links(page.url, fetcher=fetcher, max_links=per_page)
            except (HostBusy, InvalidURL) as exc:
                page.error = f"Not fetched: {exc}"
            else:
                if result is None:
                    page.error = f"Not fetched: {robots.robots_url} disallows crawling this page."
                elif not result.ok:
                    page.error = _page_error(result.error_kind, result.error, result.status)
        if result is not None:
            page.final_url = result.final_url
            page.http_status = result.status
            page.links_found = len(result.links)
            page.links_capped = result.capped
            pages_capped += result.capped
            for link in result.links:
                key = url_key(link.url)
                entry = found.get(key)
                if entry is None:
                    if len(found) >= per_scan:
                        scan_capped = True
                        continue  # a link already kept may still be on this page
                    entry = found[key] = (link, [])
                entry[1].append(page)
        page.done = True
        page.save(
            update_fields=["final_url", "http_status", "links_found", "links_capped", "done",
                           "error"]
        )  # fmt: skip
        BrokenLinkScan.objects.filter(pk=scan_id).update(
            pages_done=F("pages_done") + 1,
            links_total=len(found),
            heartbeat_at=timezone.now(),
            cap_notice=_cap_notice(pages_capped, scan_capped),
        )
    return found


def _cap_notice(pages_capped: int, scan_capped: bool) -> str:
    notes = []
    if pages_capped:
        cap = settings.BROKEN_LINKS_MAX_LINKS_PER_PAGE
        pages = "1 page has" if pages_capped == 1 else f"{pages_capped} pages have"
        notes.append(
            f"{pages} more than {cap:,} outbound links: only the first {cap:,} of a page "
            "are checked."
        )
    if scan_capped:
        cap = settings.BROKEN_LINKS_MAX_LINKS_PER_SCAN
        notes.append(
            f"The scan stopped at {cap:,} links, the most one scan checks: links (and "
            "pages) past that were not checked."
        )
    return " ".join(notes)


def _page_error(kind: str | None, error: str | None, status: int | None) -> str:
    if kind == "blocked_address":
        return f"Refused: {error}."
    if kind == "not_html":
        return f"Not a web page: {error}."
    if status:
        return f"The page answered {status}; nothing to scan."
    return f"The page could not be fetched: {error}."


def _check_all(
    urls: dict[str, str], fetcher: Fetcher, progress: _Progress | None
) -> dict[str, LinkStatus]:
    """Check ``{url_key: url}``; statuses by url_key."""
    by_url = {url: key for key, url in urls.items()}
    statuses: dict[str, LinkStatus] = {}
    results = check_links(
        list(urls.values()),
        fetcher=fetcher,
        limiter=host_limiter(),
        max_workers=settings.BROKEN_LINKS_CONCURRENCY,
        robots_agent=ROBOTS_AGENT,
    )
    try:
        for status in results:
            statuses[by_url[status.url]] = status
            if progress is not None:
                progress.link_checked()
    finally:
        results.close()
    return statuses


def _record(
    scan_id: int,
    found: dict[str, tuple[OutboundLink, list[ScanPage]]],
    statuses: dict[str, LinkStatus],
    state: ScanState,
    checked: int,
) -> None:
    rows: list[DeadLink] = []
    counts = dict.fromkeys(LinkOutcome, 0)
    for key, status in statuses.items():
        counts[status.outcome] += 1
        if status.outcome not in (LinkOutcome.DEAD, LinkOutcome.MAYBE_DEAD):
            continue
        link, pages = found[key]
        for page in pages:
            rows.append(
                DeadLink(
                    scan_id=scan_id,
                    page=page,
                    url=link.url[:2000],
                    anchor_text=link.anchor_text[:500],
                    context=link.context,
                    verdict=DeadLinkVerdict(str(status.outcome)),
                    reason=status.reason[:500],
                    http_status=status.status,
                )
            )
    with transaction.atomic():
        DeadLink.objects.bulk_create(rows, ignore_conflicts=True)
        BrokenLinkScan.objects.filter(pk=scan_id).update(
            state=state,
            finished_at=timezone.now(),
            links_checked=checked,
            dead_count=counts[LinkOutcome.DEAD],
            maybe_count=counts[LinkOutcome.MAYBE_DEAD],
            unknown_count=counts[LinkOutcome.UNKNOWN],
        )


# --- From dead link to prospect ---------------------------------------------------------------


@transaction.atomic
def make_prospect(dead_link: DeadLink, *, target: TargetPage | None, by: User | None) -> Prospect:
    """A broken_link prospect for the page that carries ``dead_link``, offering
    ``target`` instead. A second click returns the same prospect. A page that is
    already a broken_link prospect without a dead link (one picked for the scan)
    gets this one filled in; any other existing prospect for the page is an error."""
    dead_link = (
        DeadLink.objects.select_for_update().select_related("page__scan").get(pk=dead_link.pk)
    )
    if dead_link.prospect_id is not None:
        return Prospect.objects.get(pk=dead_link.prospect_id)
    page = dead_link.page
    campaign_id = page.scan.campaign_id
    if target is not None and target.campaign_id != campaign_id:
        raise ValidationError("That target page belongs to another campaign.")
    page_url = page.final_url or page.url
    existing = Prospect.objects.filter(campaign_id=campaign_id, url_key=url_key(page_url)).first()
    note = f"Dead link “{dead_link.anchor_text or dead_link.url}” ({dead_link.reason})."
    if dead_link.context:
        note += f" Context: {dead_link.context}"
    if existing is not None:
        if existing.kind != Kind.BROKEN_LINK or existing.dead_url:
            raise ValidationError(
                f"{page_url} is already a prospect ({existing.get_kind_display()}"
                f"{', dead link ' + existing.dead_url if existing.dead_url else ''})."
            )
        Prospect.objects.filter(pk=existing.pk).update(
            dead_url=dead_link.url,
            offered_target=target,
            notes=(existing.notes + "\n" + note).strip(),
            updated_at=timezone.now(),
        )
        prospect = existing
    else:
        prospect = create_prospect(
            by=by,
            campaign_id=campaign_id,
            kind=Kind.BROKEN_LINK,
            url=page_url,
            dead_url=dead_link.url,
            offered_target=target,
            notes=note,
        )
    DeadLink.objects.filter(pk=dead_link.pk).update(prospect=prospect)
    return prospect


def request_dead_link_check(
    prospect: Prospect, *, by: User, now: datetime | None = None
) -> DeadLinkCheck:
    """ "Re-check the dead link": queue a check of a broken_link prospect's dead
    URL (it may have been fixed since it was found, and an email about a link
    that works is a wasted pitch). The web request only writes the row; the
    fetch runs in a worker and the page polls the row.

    A check still waiting for its answer is returned as it is, so a second click
    queues nothing. Budgets as for "re-check now": one link at most once per
    RECHECK_LINK_INTERVAL_SECONDS, a member at most RECHECK_PER_USER_PER_HOUR;
    raises OverBudget, queueing nothing, when either is spent."""
    if prospect.kind != Kind.BROKEN_LINK or not prospect.dead_url:
        raise ValidationError("This prospect has no dead link to check.")
    now = now or timezone.now()
    with transaction.atomic():
        # One request at a time per prospect, across web processes.
        Prospect.objects.select_for_update().filter(pk=prospect.pk).exists()
        last = DeadLinkCheck.objects.filter(prospect=prospect).order_by("-requested_at").first()
        if last is not None and last.progress(now) == "waiting":
            return last
        since = now - timedelta(seconds=settings.RECHECK_LINK_INTERVAL_SECONDS)
        if last is not None and last.requested_at > since:
            raise budgets.link_rechecked_recently((now - last.requested_at).total_seconds())
        budgets.spend_recheck(by.pk)
        check = DeadLinkCheck.objects.create(
            prospect=prospect, checked_by=by, url=prospect.dead_url, requested_at=now
        )
        dead_link_check_task.on_commit(check.pk)
    return check


def run_dead_link_check(check_id: int) -> DeadLinkCheck | None:
    """Answer a queued dead-link check (the task's body). Safe to run twice: only
    a check without an answer is answered, and only once."""
    check = DeadLinkCheck.objects.filter(pk=check_id, checked_at__isnull=True).first()
    if check is None:
        return None
    try:
        with host_limiter().slot(domain_of(check.url)):
            status = check_link(check.url, fetcher=scan_fetcher(), robots_agent=ROBOTS_AGENT)
    except (HostBusy, InvalidURL) as exc:
        reason = f"not checked: {exc}"
        status = LinkStatus(url=check.url, outcome=LinkOutcome.UNKNOWN, reason=reason)
    DeadLinkCheck.objects.filter(pk=check_id, checked_at__isnull=True).update(
        checked_at=timezone.now(),
        outcome=str(status.outcome),
        reason=status.reason[:500],
        http_status=status.status,
    )
    return DeadLinkCheck.objects.get(pk=check_id)
