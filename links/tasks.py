"""Celery tasks: thin wrappers over services, taking ids as JSON."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from config import heartbeats
from links import quality, services
from links.checking import check_many
from links.hostlimit import HostBusy
from links.models import Backlink
from links.outcome import CheckOutcome
from links.services import Claim

log = logging.getLogger(__name__)


def enqueue_checks(claims: list[Claim]) -> None:
    """Queue checks in batches once the claims are committed (a worker must never
    see a claim that was rolled back)."""
    size = settings.VERIFIER_BATCH_SIZE
    for start in range(0, len(claims), size):
        payload = [claim.to_json() for claim in claims[start : start + size]]
        transaction.on_commit(lambda payload=payload: check_backlinks.delay(payload))


@shared_task(ignore_result=True)
def dispatch_due_checks() -> int:
    """Beat runs this every minute: claim what is due, queue its checks."""
    claimed = 0
    while claimed < settings.VERIFIER_DISPATCH_MAX:
        with transaction.atomic():
            claims = services.claim_due(limit=min(500, settings.VERIFIER_DISPATCH_MAX - claimed))
            enqueue_checks(claims)
        claimed += len(claims)
        if len(claims) < 500:
            break
    if claimed:
        log.info("dispatched %d backlink checks", claimed)
    # Only after a run that worked: /healthz reports a dispatcher that stopped or
    # keeps failing as stale.
    heartbeats.record_dispatch()
    return claimed


# Finished checks are recorded together: up to this many at a time, or fewer when
# the oldest of them has waited this long by the time the next check finishes.
# A few statements per group instead of five per check.
RECORD_GROUP_SIZE = 10
RECORD_GROUP_WAIT_SECONDS = 2.0


def _record(finished: list[tuple[Claim, CheckOutcome]]) -> int:
    """Record a group of finished checks; return how many were recorded. When the
    group's transaction fails, each is tried alone, so that one bad result costs
    only itself: a check not recorded stays claimed and is checked again once its
    lease runs out."""
    try:
        return len(services.record_checks(finished))
    except DatabaseError:
        log.exception("recording %d checks together failed; trying one by one", len(finished))
    recorded = 0
    for claim, outcome in finished:
        try:
            recorded += services.record_check(claim, outcome) is not None
        except DatabaseError:
            log.exception(
                "recording the check of backlink %d failed; it is checked again later",
                claim.backlink_id,
            )
    return recorded


# Safe to run twice: a claim that was already recorded is skipped by record_checks,
# so it is acknowledged only after it ran, and a worker killed mid-batch loses nothing.
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def check_backlinks(payload: list[list[object]]) -> int:
    claims = {claim.backlink_id: claim for claim in map(Claim.from_json, payload)}
    backlinks = list(Backlink.objects.filter(pk__in=claims).select_related("target_page"))
    # Links deleted or re-claimed since the dispatch are not checked at all.
    due = [b for b in backlinks if b.next_check_at == claims[b.pk].lease]
    recorded = 0
    finished: list[tuple[Claim, CheckOutcome]] = []
    oldest = 0.0
    try:
        for backlink_id, outcome in check_many(due):
            if not finished:
                oldest = time.monotonic()
            finished.append((claims[backlink_id], outcome))
            waited = time.monotonic() - oldest
            if len(finished) >= RECORD_GROUP_SIZE or waited >= RECORD_GROUP_WAIT_SECONDS:
                recorded += _record(finished)
                finished = []
    except HostBusy as exc:
        # The rest of the batch stays claimed; when the lease runs out the
        # dispatcher hands it out again. Nothing is recorded as a page error,
        # because the page was never asked.
        done = recorded + len(finished)
        log.warning("batch stopped after %d of %d checks: %s", done, len(due), exc)
    finally:
        try:
            if finished:
                recorded += _record(finished)
        finally:
            # Under the gevent pool every task runs in a new greenlet with its own
            # connection; closing it here keeps one connection per running batch
            # instead of one per finished task waiting for the garbage collector.
            connection.close()
    return recorded


@shared_task(ignore_result=True)
def send_alert_digests() -> int:
    return services.send_alert_digests()


@shared_task(ignore_result=True)
def refresh_stale_quality() -> int:
    """Beat runs this every minute: rescore the prospects saved or imported since
    their last score, and the backlinks of their sites. Safe to run twice: a
    second run finds nothing stale."""
    return quality.refresh_stale()
