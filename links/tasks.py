"""Celery tasks: thin wrappers over services, taking ids as JSON."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config import heartbeats
from links import dispatch, history, partitions, quality, relevance, services
from links.channels import services as channel_services
from links.checking import score_prospects
from links.verification.pool import HostBusy

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def dispatch_due_checks() -> int:
    """Beat runs this every minute: claim what is due, queue its checks."""
    claimed = dispatch.dispatch_due()
    if claimed:
        log.info("dispatched %d backlink checks", claimed)
    # Only after a run that worked: /healthz reports a dispatcher that stopped or
    # keeps failing as stale.
    heartbeats.record_dispatch()
    return claimed


# Safe to run twice: a claim that was already recorded is skipped, so it is
# acknowledged only after it ran, and a worker killed mid-batch loses nothing.
@dispatch.check_batch.bind
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def check_backlinks(payload: dispatch.Payload) -> int:
    try:
        return services.check_claimed(dispatch.claims_from_json(payload))
    finally:
        # Under the gevent pool every task runs in a new greenlet with its own
        # connection; closing it here keeps one connection per running batch
        # instead of one per finished task waiting for the garbage collector.
        connection.close()


# As check_backlinks: safe to run twice, so acknowledged once it ran. Routed to
# the "render" queue (settings.CELERY_TASK_ROUTES), whose workers have Chromium.
@dispatch.render_batch.bind
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def render_backlinks(payload: dispatch.Payload) -> int:
    try:
        return services.render_claimed(dispatch.claims_from_json(payload))
    finally:
        connection.close()


@shared_task(ignore_result=True)
def score_new_prospects() -> int:
    """Beat runs this every minute: claim the prospects never read for relevance
    (added or imported since) and queue their scoring in batches."""
    if not settings.RELEVANCE_ENABLED:
        return 0
    ids = relevance.claim_unscored_prospects()
    size = relevance.PROSPECT_BATCH_SIZE
    for start in range(0, len(ids), size):
        score_prospect_relevance.delay(ids[start : start + size])
    return len(ids)


# Not acks_late: a batch lost with its worker keeps relevance null (the claim
# already stamped it), rather than a redelivery fetching every page again.
@shared_task(ignore_result=True)
def score_prospect_relevance(prospect_ids: list[int]) -> int:
    try:
        return score_prospects([int(pk) for pk in prospect_ids])
    except HostBusy as exc:
        # Pages already read are stored; the rest stay unscored (null).
        log.warning("relevance scoring stopped: %s", exc)
        return 0
    finally:
        connection.close()


@shared_task(ignore_result=True)
def send_alert_digests() -> int:
    """Beat runs this every five minutes: one digest per campaign with new
    alerts, sent to each of its channels (links.channels)."""
    return channel_services.send_alert_digests()


@shared_task(ignore_result=True)
def refresh_stale_quality() -> int:
    """Beat runs this every minute: rescore the prospects saved or imported since
    their last score, and the backlinks of their sites. Safe to run twice: a
    second run finds nothing stale."""
    return quality.refresh_stale()


@shared_task(ignore_result=True)
def maintain_check_history() -> dict[str, int]:
    """Beat runs this every ten minutes, on the bulk queue: create the coming
    months' check partitions, fold old unchanged checks a few batches at a time
    (links.history, alongside the checkers), and drop the months past
    CHECK_RETENTION_MONTHS (links.partitions). Safe to run twice at once: a
    backlink one run holds is skipped by the other."""
    now = timezone.now()
    created = partitions.ensure(now, settings.CHECK_PARTITIONS_AHEAD)
    folded = history.fold_some(now=now)
    dropped = partitions.apply_retention(now, settings.CHECK_RETENTION_MONTHS)
    if created or folded.folded or dropped:
        log.info(
            "check history: %d partitions created, %d checks folded into %d summaries, "
            "%d months dropped",
            len(created),
            folded.folded,
            folded.summaries,
            len(dropped),
        )
    return {
        "created": len(created),
        "folded": folded.folded,
        "summaries": folded.summaries,
        "dropped": len(dropped),
    }
