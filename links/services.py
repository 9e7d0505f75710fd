"""Operations that write backlinks, their checks and alerts."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import JSONField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from links import budgets, quality
from links.checking import check_many, render_check
from links.dispatch import Claim, enqueue_renders, request_check
from links.models import Alert, Backlink, LinkCheck, Verdict
from links.outcome import CheckOutcome, Sighting, primary_anchor
from links.rowupdate import update_rows
from links.verification.pool import HostBusy
from links.verification.urls import InvalidURL, normalize_url
from outreach.models import Status
from outreach.services import change_status

if TYPE_CHECKING:
    from campaigns.models import TargetPage, User
    from outreach.models import Prospect

log = logging.getLogger(__name__)


def request_recheck(backlink: Backlink, *, by: User, now: datetime | None = None) -> datetime:
    """A member's "re-check now", within their budgets: one link at most once per
    RECHECK_LINK_INTERVAL_SECONDS, a member at most RECHECK_PER_USER_PER_HOUR.
    Raises OverBudget, queueing nothing, when either is spent."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.RECHECK_LINK_INTERVAL_SECONDS)
    with transaction.atomic():
        # A conditional UPDATE, so two clicks racing in two web processes cannot
        # both pass: the row is the per-link budget.
        taken = (
            Backlink.objects.filter(pk=backlink.pk)
            .filter(Q(check_requested_at__isnull=True) | Q(check_requested_at__lte=since))
            .update(check_requested_at=now)
        )
        if not taken:
            last = Backlink.objects.values_list("check_requested_at", flat=True).get(pk=backlink.pk)
            raise budgets.link_rechecked_recently((now - last).total_seconds())
        # Refused here, the UPDATE above is rolled back with the transaction.
        budgets.spend_recheck(by.pk)
        return request_check(backlink, now=now)


def record_check(
    claim: Claim | int, outcome: CheckOutcome, *, now: datetime | None = None
) -> LinkCheck | None:
    """Store one check and apply DESIGN.md's loss rules, in one transaction.

    Returns the LinkCheck, or None when the backlink is gone or the claim is stale
    (another run already recorded this check).
    """
    return record_checks([(claim, outcome)], now=now).get(
        claim if isinstance(claim, int) else claim.backlink_id
    )


# Finished checks are recorded together: up to this many at a time, or fewer when
# the oldest of them has waited this long by the time the next check finishes.
# A few statements per group instead of five per check. A whole batch
# (VERIFIER_BATCH_SIZE, 25) is one group when its checks finish close together:
# recording 10 at a time cost 1.3-1.5 ms more worker CPU per check than 25.
RECORD_GROUP_SIZE = 25
RECORD_GROUP_WAIT_SECONDS = 2.0


def check_claimed(claims: Sequence[Claim]) -> int:
    """Verify claimed backlinks on the host-fair pool and record each result while
    its claim holds; return how many were recorded (the check task's body).

    Safe to run twice: links deleted or re-claimed since the dispatch are not
    checked, and a claim already recorded is skipped by record_checks.
    """
    by_id = {claim.backlink_id: claim for claim in claims}
    backlinks = list(Backlink.objects.filter(pk__in=by_id).select_related("target_page"))
    due = [b for b in backlinks if b.lease_until == by_id[b.pk].lease]
    recorded = 0
    finished: list[tuple[Claim, CheckOutcome]] = []
    escalated: list[Claim] = []
    oldest = 0.0
    try:
        for backlink_id, outcome in check_many(due):
            if needs_second_look(outcome):
                # Not recorded: the claim goes on to the render queue, whose
                # check records it while the same lease holds.
                escalated.append(by_id[backlink_id])
                continue
            if not finished:
                oldest = time.monotonic()
            finished.append((by_id[backlink_id], outcome))
            waited = time.monotonic() - oldest
            if len(finished) >= RECORD_GROUP_SIZE or waited >= RECORD_GROUP_WAIT_SECONDS:
                recorded += _record_group(finished)
                finished = []
    except HostBusy as exc:
        # The rest of the batch stays claimed; when the lease runs out the
        # dispatcher hands it out again. Nothing is recorded as a page error,
        # because the page was never asked.
        done = recorded + len(finished)
        log.warning("batch stopped after %d of %d checks: %s", done, len(due), exc)
    finally:
        if finished:
            recorded += _record_group(finished)
        if escalated:
            with transaction.atomic():
                enqueue_renders(escalated)
    return recorded


def needs_second_look(outcome: CheckOutcome) -> bool:
    """A raw check found no link on a page that looks script-built: re-run it
    rendered, when a render worker is there to (settings.RENDER_ENABLED)."""
    return bool(
        settings.RENDER_ENABLED
        and outcome.verdict == Verdict.MISSING
        and outcome.script_built
        and not outcome.rendered
    )


def render_claimed(claims: Sequence[Claim]) -> int:
    """Check claimed backlinks with their pages rendered in Chromium, one at a
    time, recording each while its claim holds; return how many were recorded
    (the render task's body). Safe to run twice, as check_claimed."""
    by_id = {claim.backlink_id: claim for claim in claims}
    backlinks = Backlink.objects.filter(pk__in=by_id).select_related("target_page")
    recorded = 0
    for backlink in backlinks:
        if backlink.lease_until != by_id[backlink.pk].lease:
            continue
        try:
            outcome = render_check(backlink)
        except HostBusy as exc:
            # As in check_claimed: the rest stays claimed until its lease runs out.
            log.warning("render batch stopped after %d checks: %s", recorded, exc)
            break
        recorded += record_check(by_id[backlink.pk], outcome) is not None
    return recorded


def _record_group(finished: list[tuple[Claim, CheckOutcome]]) -> int:
    """Record a group of finished checks; return how many were recorded. When the
    group's transaction fails, each is tried alone, so that one bad result costs
    only itself: a check not recorded stays claimed and is checked again once its
    lease runs out."""
    try:
        return len(record_checks(finished))
    except DatabaseError:
        log.exception("recording %d checks together failed; trying one by one", len(finished))
    recorded = 0
    for claim, outcome in finished:
        try:
            recorded += record_check(claim, outcome) is not None
        except DatabaseError:
            log.exception(
                "recording the check of backlink %d failed; it is checked again later",
                claim.backlink_id,
            )
    return recorded


def record_checks(
    results: Sequence[tuple[Claim | int, CheckOutcome]], *, now: datetime | None = None
) -> dict[int, LinkCheck]:
    """Store a batch of checks (one per backlink) and apply the loss rules to each,
    in one transaction of a handful of queries whatever the batch size.

    A worker records its finished checks together: one statement per step for
    the batch instead of five per check is most of the database's share of a
    check. Returns the LinkChecks by backlink id; backlinks that are gone or whose
    claim is stale (another run already recorded it) are left out.
    """
    now = now or timezone.now()
    leases: dict[int, datetime | None] = {}
    outcomes: dict[int, CheckOutcome] = {}
    for claim, outcome in results:
        backlink_id, lease = (
            (claim, None) if isinstance(claim, int) else (claim.backlink_id, claim.lease)
        )
        if backlink_id in outcomes:
            raise ValueError(f"backlink {backlink_id} appears twice in one batch")
        leases[backlink_id], outcomes[backlink_id] = lease, outcome
    if not outcomes:
        return {}
    with transaction.atomic():
        # Locked in id order, so two batches sharing rows cannot deadlock.
        locked = _with_previous_sighting(
            quality.with_inputs(
                Backlink.objects.select_for_update(of=("self",))
                .filter(pk__in=outcomes)
                .order_by("pk")
            )
        )
        backlinks = [b for b in locked if leases[b.pk] is None or b.lease_until == leases[b.pk]]
        checks = LinkCheck.objects.bulk_create(
            _link_check(backlink, outcomes[backlink.pk], now) for backlink in backlinks
        )
        alerts: list[Alert] = []
        for backlink in backlinks:
            for kind, message in backlink.apply(
                outcomes[backlink.pk], now=now, previous=_sighting_of(backlink)
            ):
                alerts.append(
                    Alert(
                        campaign_id=backlink.campaign_id,
                        backlink=backlink,
                        kind=kind,
                        message=message,
                        created_at=now,
                    )
                )
        for backlink in backlinks:
            # Follow, placement and relevance may have changed; the rest of the
            # score's inputs came with the locking query.
            quality.rescore(backlink)
        update_rows(backlinks, [*Backlink.CHECK_FIELDS, "quality", "quality_parts"])
        Alert.objects.bulk_create(alerts)
    return {check.backlink_id: check for check in checks}


def _link_check(backlink: Backlink, outcome: CheckOutcome, now: datetime) -> LinkCheck:
    changed_page = outcome.page_hash != backlink.last_page_hash
    return LinkCheck(
        backlink=backlink,
        checked_at=now,
        verdict=Verdict(outcome.verdict),
        http_status=outcome.http_status,
        final_url=outcome.final_url[:2000],
        anchors=outcome.anchors,
        flags=outcome.flags,
        differences=outcome.differences,
        # At scale the history is most of the database: the snippet is kept
        # only when the page changed; an earlier row holds it otherwise.
        snippet=outcome.snippet if changed_page or not backlink.last_checked_at else "",
        page_hash=outcome.page_hash,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        bytes_read=outcome.bytes_read,
        rendered=outcome.rendered,
        render_ms=outcome.render_ms,
    )


def _with_previous_sighting(backlinks: QuerySet[Backlink]) -> QuerySet[Backlink]:
    """Annotate each backlink with the anchors and differences of the last check
    that found the link (read before this batch's checks are written)."""
    last_seen = LinkCheck.objects.filter(
        backlink=OuterRef("pk"), verdict__in=[Verdict.LIVE, Verdict.NOFOLLOW]
    ).order_by("-checked_at", "-pk")
    return backlinks.annotate(
        seen_anchors=Subquery(last_seen.values("anchors")[:1], output_field=JSONField()),
        seen_differences=Subquery(last_seen.values("differences")[:1], output_field=JSONField()),
    )


def _sighting_of(backlink: Backlink) -> Sighting | None:
    anchors = backlink.seen_anchors
    if anchors is None:
        return None
    primary = primary_anchor(anchors)
    return Sighting(
        anchor_text=anchors[0].get("text", "") if anchors else "",
        wrong_target=any(d.get("kind") == "target" for d in backlink.seen_differences or []),
        placement=(primary or {}).get("placement") or "",
    )


def mark_alerts_read(alerts: QuerySet[Alert], *, by: User) -> int:
    return alerts.filter(read_at__isnull=True).update(read_at=timezone.now(), read_by=by)


@transaction.atomic
def record_won_link(
    prospect: Prospect,
    *,
    by: User | None,
    source_url: str,
    target_page: TargetPage | None,
    target_url: str = "",
    anchor_text: str = "",
    cost: Decimal | None = None,
    won_on: date | None = None,
) -> Backlink:
    """A prospect said yes: record the backlink it gave us, mark the prospect won
    (with its history row), and queue the link's first check.

    ``target_url`` defaults to the target page's URL. Raises ValidationError with
    per-field messages for a bad URL, a target page of another campaign, or a
    link that is already recorded.
    """
    campaign = prospect.campaign
    if target_page is not None and target_page.campaign_id != campaign.pk:
        raise ValidationError({"target_page": "That target page belongs to another campaign."})
    target_url = (target_url or "").strip() or (target_page.url if target_page else "")
    if not target_url:
        raise ValidationError({"target_url": "Choose a target page or enter the linked URL."})
    backlink = Backlink(
        campaign=campaign,
        prospect=prospect,
        target_page=target_page,
        expected_anchor_text=anchor_text.strip(),
        cost=cost,
        won_by=by,
        won_on=won_on or timezone.localdate(),
    )
    errors: dict[str, str] = {}
    for field, url in (("source_url", source_url), ("target_url", target_url)):
        try:
            normalize_url(url)
        except InvalidURL as exc:
            errors[field] = f"Not a usable URL: {exc}."
    if cost is not None and cost < 0:
        errors["cost"] = "The cost cannot be negative."
    if errors:
        raise ValidationError(errors)
    backlink.set_urls(source_url, target_url)
    duplicate = Backlink.objects.filter(
        campaign=campaign,
        source_url_key=backlink.source_url_key,
        target_url_key=backlink.target_url_key,
    ).exists()
    if duplicate:
        raise ValidationError(
            {"source_url": "This link, from this page to this target, is already recorded."}
        )
    backlink.save()
    # Writes no history row if the prospect was already won (another link from it).
    change_status(prospect, to_status=Status.WON, by=by)
    request_check(backlink)
    # A first link from its site changes "new domain" for the site's prospects too.
    quality.refresh_backlinks([backlink], prospects=True)
    return backlink
