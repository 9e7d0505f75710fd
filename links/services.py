"""Operations that write backlinks, their checks and alerts."""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import JSONField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from links import budgets, quality, scheduling
from links.models import Alert, Backlink, BacklinkState, LinkCheck, Placement, Verdict
from links.outcome import CheckOutcome, primary_anchor, rel_type_tokens
from links.rowupdate import update_rows
from links.verification.urls import InvalidURL, normalize_url
from outreach.models import Status
from outreach.services import change_status

if TYPE_CHECKING:
    from campaigns.models import TargetPage, User
    from outreach.models import Prospect

log = logging.getLogger(__name__)

# States in which the link was last seen on the page.
SEEN_STATES = {BacklinkState.LIVE, BacklinkState.NOFOLLOW}


@dataclass(frozen=True)
class Claim:
    """A backlink handed to a check task. ``lease`` is the next_check_at the claim
    set: the task records only while it still matches, so a redelivered or
    duplicate task does nothing."""

    backlink_id: int
    lease: datetime

    def to_json(self) -> list[object]:
        return [self.backlink_id, self.lease.isoformat()]

    @classmethod
    def from_json(cls, data: list[object]) -> Claim:
        return cls(int(data[0]), datetime.fromisoformat(str(data[1])))


def claim_due(*, limit: int, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` due backlinks, moving their next_check_at forward as a
    lease. Concurrent dispatchers skip each other's rows (SKIP LOCKED)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.VERIFIER_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            Backlink.objects.due(now)
            .order_by("next_check_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Backlink.objects.filter(pk__in=ids).update(next_check_at=lease)
    return [Claim(pk, lease) for pk in ids]


def claim(backlink_ids: list[int], *, now: datetime | None = None) -> list[Claim]:
    """Claim these backlinks now, due or not (the command line, "re-check now")."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.VERIFIER_LEASE_SECONDS)
    Backlink.objects.filter(pk__in=backlink_ids).update(next_check_at=lease)
    return [Claim(pk, lease) for pk in backlink_ids]


def request_check(backlink: Backlink, *, now: datetime | None = None) -> datetime:
    """ "Re-check now": claim the backlink and queue its check at once. Returns the
    request time; the page polls until ``last_checked_at`` passes it."""
    from links.tasks import enqueue_checks

    now = now or timezone.now()
    claims = claim([backlink.pk], now=now)
    Backlink.objects.filter(pk=backlink.pk).update(check_requested_at=now)
    backlink.check_requested_at, backlink.next_check_at = now, claims[0].lease
    enqueue_checks(claims)
    return now


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


# Fields a check rewrites on its backlink.
_CHECK_FIELDS = [
    "state",
    "last_verdict",
    "noindex",
    "canonical_url",
    "robots_txt_blocked",
    "first_seen_at",
    "last_checked_at",
    "next_check_at",
    "lost_at",
    "failing_since",
    "state_changed_at",
    "last_page_hash",
    "placement",
    "link_kind",
    "link_rel",
]


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
        backlinks = [b for b in locked if leases[b.pk] is None or b.next_check_at == leases[b.pk]]
        checks = LinkCheck.objects.bulk_create(
            _link_check(backlink, outcomes[backlink.pk], now) for backlink in backlinks
        )
        alerts: list[Alert] = []
        for backlink in backlinks:
            for kind, message in _apply_outcome(
                backlink, outcomes[backlink.pk], now=now, previous=_sighting_of(backlink)
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
        update_rows(backlinks, [*_CHECK_FIELDS, "quality", "quality_parts"])
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
    )


@dataclass(frozen=True)
class Sighting:
    """What the last check that found the link saw."""

    anchor_text: str
    wrong_target: bool
    # Where the link was ("" when that check did not record it).
    placement: str = ""


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


def _set_state(backlink: Backlink, state: str, now: datetime) -> bool:
    if backlink.state == state:
        return False
    backlink.state = state
    backlink.state_changed_at = now
    return True


def _apply_outcome(
    backlink: Backlink, outcome: CheckOutcome, *, now: datetime, previous: Sighting | None
) -> list[tuple[str, str]]:
    """Move the backlink to its new state; return the alerts (kind, message) it raises."""
    alerts: list[tuple[str, str]] = []
    before = backlink.state
    where = backlink.source_url
    backlink.last_checked_at = now
    backlink.last_verdict = outcome.verdict
    backlink.last_page_hash = outcome.page_hash

    if outcome.found:
        backlink.failing_since = None
        backlink.lost_at = None
        backlink.first_seen_at = backlink.first_seen_at or now
        backlink.noindex = bool(outcome.flags.get("noindex"))
        backlink.canonical_url = (outcome.flags.get("canonical") or "")[:2000]
        backlink.robots_txt_blocked = bool(outcome.flags.get("robots_txt_blocked"))
        primary = outcome.primary_anchor or {}
        backlink.placement = primary.get("placement") or ""
        backlink.link_kind = primary.get("kind") or ""
        backlink.link_rel = rel_type_tokens(primary.get("rel"))
        new_state = (
            BacklinkState.LIVE if outcome.verdict == Verdict.LIVE else BacklinkState.NOFOLLOW
        )
        _set_state(backlink, new_state, now)
        if before in {BacklinkState.LOST, BacklinkState.UNREACHABLE}:
            alerts.append((Alert.Kind.RECOVERED, f"The link on {where} is back."))
        elif new_state == BacklinkState.NOFOLLOW and before != BacklinkState.NOFOLLOW:
            alerts.append(
                (
                    Alert.Kind.NOFOLLOW,
                    f"The link on {where} no longer passes value "
                    "(nofollow, ugc, sponsored or a page-level nofollow).",
                )
            )
        anchor = outcome.anchors[0].get("text", "") if outcome.anchors else ""
        wrong_target = any(d.get("kind") == "target" for d in outcome.differences)
        if previous is not None and anchor != previous.anchor_text:
            alerts.append(
                (
                    Alert.Kind.ANCHOR_CHANGED,
                    f"The anchor text on {where} changed from {previous.anchor_text!r} "
                    f"to {anchor!r}.",
                )
            )
        if previous is not None and wrong_target and not previous.wrong_target:
            alerts.append(
                (
                    Alert.Kind.TARGET_CHANGED,
                    f"The link on {where} now points at another page than agreed.",
                )
            )
        if (
            previous is not None
            and previous.placement == Placement.CONTENT
            and backlink.placement not in ("", Placement.CONTENT)
        ):
            # Only a known placement counts: a page read without a tree (too
            # deep) says nothing about where the link went.
            alerts.append(
                (
                    Alert.Kind.MOVED_OUT_OF_CONTENT,
                    f"The link on {where} moved out of the content, into the "
                    f"{backlink.get_placement_display().lower()}.",
                )
            )
        backlink.next_check_at = now + scheduling.with_jitter(
            scheduling.settled_interval(
                now=now,
                first_seen_at=backlink.first_seen_at,
                state_changed_at=backlink.state_changed_at,
            )
        )
        return alerts

    if outcome.verdict == Verdict.MISSING or outcome.gone:
        backlink.failing_since = (
            None if outcome.verdict == Verdict.MISSING else (backlink.failing_since or now)
        )
        if before == BacklinkState.LOST:
            backlink.next_check_at = now + scheduling.with_jitter(scheduling.WEEK)
            return alerts
        if before == BacklinkState.UNCONFIRMED:
            # The second negative observation in a row: the loss is confirmed.
            _set_state(backlink, BacklinkState.LOST, now)
            backlink.lost_at = now
            reason = (
                f"the page answers {outcome.http_status}"
                if outcome.gone
                else "the link is no longer on the page"
            )
            alerts.append((Alert.Kind.LOST, f"Lost the link on {where}: {reason}."))
            backlink.next_check_at = now + scheduling.with_jitter(scheduling.DAY)
            return alerts
        # One observation is not a loss: pages are edited, caches serve stale copies.
        _set_state(backlink, BacklinkState.UNCONFIRMED, now)
        backlink.next_check_at = now + timedelta(minutes=settings.VERIFIER_CONFIRM_MINUTES)
        return alerts

    # A transient error: we could not tell. Never a loss; retried with backoff.
    backlink.failing_since = backlink.failing_since or now
    backlink.next_check_at = now + scheduling.error_backoff(
        now=now, failing_since=backlink.failing_since
    )
    if before == BacklinkState.UNCONFIRMED:
        # Keep waiting for a real second observation.
        backlink.next_check_at = now + timedelta(minutes=settings.VERIFIER_CONFIRM_MINUTES)
        return alerts
    failing_for = now - backlink.failing_since
    if failing_for >= timedelta(days=settings.VERIFIER_UNREACHABLE_DAYS):
        if _set_state(backlink, BacklinkState.UNREACHABLE, now):
            days = failing_for.days
            alerts.append(
                (
                    Alert.Kind.UNREACHABLE,
                    f"{where} has failed for {days} days ({outcome.error or 'error'}).",
                )
            )
    elif before not in {BacklinkState.LOST, BacklinkState.UNREACHABLE}:
        _set_state(backlink, BacklinkState.ERROR, now)
    return alerts


def send_alert_digests(*, now: datetime | None = None) -> int:
    """Mail each campaign owner one digest of the alerts not mailed yet.

    Alerts are claimed with a conditional UPDATE first, so two runs at once never
    mail the same alert twice. Returns the number of mails sent.
    """
    now = now or timezone.now()
    pending = list(Alert.objects.filter(mailed_at__isnull=True).values_list("pk", flat=True)[:5000])
    if not pending:
        return 0
    token = now
    Alert.objects.filter(pk__in=pending, mailed_at__isnull=True).update(mailed_at=token)
    claimed = (
        Alert.objects.filter(pk__in=pending, mailed_at=token)
        .select_related("campaign__owner", "backlink")
        .order_by("campaign_id", "created_at")
    )
    by_campaign: dict[int, list[Alert]] = defaultdict(list)
    for alert in claimed:
        by_campaign[alert.campaign_id].append(alert)
    sent = 0
    for alerts in by_campaign.values():
        campaign = alerts[0].campaign
        owner = campaign.owner
        if not owner.email:
            log.warning(
                "campaign %s: owner %s has no email; %d alerts not mailed",
                campaign.slug,
                owner,
                len(alerts),
            )
            continue
        lines = [f"- {a.get_kind_display()}: {a.message}" for a in alerts]
        try:
            send_mail(
                subject=f"[Anchorage] {campaign.name}: {len(alerts)} backlink alert"
                f"{'s' if len(alerts) != 1 else ''}",
                message="\n".join(
                    [
                        f"Alerts for {campaign.name}:",
                        "",
                        *lines,
                        "",
                        f"{settings.SITE_URL}/campaigns/{campaign.slug}/",
                    ]
                ),
                from_email=None,
                recipient_list=[owner.email],
            )
        except (smtplib.SMTPException, OSError):
            # Give the alerts back: the next run mails them; none is silently lost.
            log.exception("mailing the alert digest of %s failed; will retry", campaign.slug)
            Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(mailed_at=None)
            continue
        sent += 1
    return sent


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
