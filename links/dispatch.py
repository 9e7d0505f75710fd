"""How a backlink check reaches a worker: claims, their wire format, queueing.

Beat runs ``tasks.dispatch_due_checks`` every minute: ``dispatch_due`` claims
the backlinks that are due (setting their ``lease_until``) and
queues them, ``VERIFIER_BATCH_SIZE`` claims per ``tasks.check_backlinks``
message, once the claims are committed. The task hands the claims to
``services.check_claimed``, which verifies them on the host-fair pool and
records each result while its lease still holds. "Re-check now" and a newly
won link go the same way through ``request_check``.

The tasks module imports this one, never the reverse: the check task is queued
through ``check_batch``, which ``links.tasks`` binds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from config.enqueue import TaskRef
from links.models import Backlink

# A batch of claims, as the check task receives it: [[backlink id, lease], ...].
Payload = list[list[object]]

check_batch: TaskRef[[Payload]] = TaskRef("links.tasks.check_backlinks")
# Backlinks whose page needs rendering, and checks escalated to Chromium
# (settings.RENDER_ENABLED): the "render" queue (CELERY_TASK_ROUTES).
render_batch: TaskRef[[Payload]] = TaskRef("links.tasks.render_backlinks")

# Claimed per transaction by the dispatcher: a bounded statement and row locks
# held for a fraction of a second (a checker recording a result waits for them).
CLAIM_CHUNK = 2500
# Rendered checks per render task: about 1-3 s each, so a batch stays well
# inside the lease even behind a few others.
RENDER_BATCH_SIZE = 5

# One statement: lock the most overdue rows nobody holds (SKIP LOCKED: a second
# dispatcher takes the next ones; a lease that ran out is free again), set their
# lease, return their ids. MATERIALIZED keeps the locking SELECT from being
# inlined into the UPDATE, where the LIMIT and SKIP LOCKED would no longer hold.
# Only lease_until changes, a column in no index: with room on the page the
# update is HOT and writes no index entry (Backlink.lease_until).
_CLAIM_SQL = """
WITH due AS MATERIALIZED (
    SELECT id FROM {table}
    WHERE next_check_at <= %(now)s AND next_check_at >= %(scheduled_from)s
      AND (lease_until IS NULL OR lease_until <= %(now)s)
    ORDER BY next_check_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE {table} b SET lease_until = %(lease)s
FROM due WHERE b.id = due.id
RETURNING b.id, b.needs_render, b.next_check_at
"""


@dataclass(frozen=True)
class Claim:
    """A backlink handed to a check task. ``lease`` is the lease_until the claim
    set: the task records only while it still matches, so a redelivered or
    duplicate task does nothing."""

    backlink_id: int
    lease: datetime
    # The backlink's page needs rendering: its check goes to the render queue.
    # Not on the wire: the queue a claim is on says it.
    render: bool = False

    def to_json(self) -> list[object]:
        return [self.backlink_id, self.lease.isoformat()]

    @classmethod
    def from_json(cls, data: Sequence[object]) -> Claim:
        backlink_id = data[0]
        if not isinstance(backlink_id, int | str):
            raise TypeError(f"not a backlink id: {backlink_id!r}")
        return cls(int(backlink_id), datetime.fromisoformat(str(data[1])))


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.VERIFIER_LEASE_SECONDS)


def claim_due(*, limit: int, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` due backlinks, holding each until its lease runs
    out. Concurrent dispatchers skip each other's rows (SKIP LOCKED)."""
    claims, _last = _claim_chunk(limit=limit, now=now or timezone.now())
    return claims


# Earlier than any schedule: a chunk with no lower bound.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _claim_chunk(
    *, limit: int, now: datetime, scheduled_from: datetime = _EPOCH
) -> tuple[list[Claim], datetime | None]:
    """Claim up to ``limit`` due backlinks scheduled at or after
    ``scheduled_from``; return the claims and the latest schedule among them,
    where the next chunk of the same run starts. A held row keeps its place at
    the head of the next_check_at index, so without that bound each chunk
    would step again over every row the chunks before it took."""
    lease = _lease(now)
    if connection.vendor != "postgresql":
        return _claim_due_portably(limit=limit, now=now, lease=lease, scheduled_from=scheduled_from)
    sql = _CLAIM_SQL.format(table=connection.ops.quote_name(Backlink._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"now": now, "limit": limit, "lease": lease, "scheduled_from": scheduled_from}
        )
        rows = cursor.fetchall()
    last = max((scheduled for _pk, _render, scheduled in rows), default=None)
    return [Claim(pk, lease, bool(render)) for pk, render, _scheduled in rows], last


def _claim_due_portably(
    *, limit: int, now: datetime, lease: datetime, scheduled_from: datetime
) -> tuple[list[Claim], datetime | None]:
    """The same claim in two statements, for SQLite (``make run``): it has no
    row locks, and its single writer already keeps dispatchers apart."""
    with transaction.atomic():
        rows = list(
            Backlink.objects.due(now)
            .filter(next_check_at__gte=scheduled_from)
            .order_by("next_check_at")
            .values_list("pk", "needs_render", "next_check_at")[:limit]
        )
        Backlink.objects.filter(pk__in=[pk for pk, *_rest in rows]).update(lease_until=lease)
    last = max((scheduled for *_rest, scheduled in rows), default=None)
    return [Claim(pk, lease, render) for pk, render, _scheduled in rows], last


def claim(backlink_ids: Sequence[int], *, now: datetime | None = None) -> list[Claim]:
    """Claim these backlinks now, due or not (the command line, "re-check now").
    Their next check moves up to the lease at the latest, so a check that never
    comes back is retried when the lease runs out, not at the old schedule."""
    lease = _lease(now or timezone.now())
    Backlink.objects.filter(pk__in=backlink_ids).update(
        lease_until=lease,
        next_check_at=Case(
            When(next_check_at__lte=lease, then=F("next_check_at")), default=Value(lease)
        ),
    )
    rendered = set(
        Backlink.objects.filter(pk__in=backlink_ids, needs_render=True).values_list("pk", flat=True)
    )
    return [Claim(pk, lease, pk in rendered) for pk in backlink_ids]


def enqueue_checks(claims: Sequence[Claim]) -> None:
    """Queue checks in batches once the claims are committed (a worker must never
    see a claim that was rolled back), all over one broker connection."""
    render = settings.RENDER_ENABLED
    raw = [claim for claim in claims if not (render and claim.render)]
    _enqueue_in_batches(check_batch, raw, settings.VERIFIER_BATCH_SIZE)
    if render:
        enqueue_renders([claim for claim in claims if claim.render])


def enqueue_renders(claims: Sequence[Claim]) -> None:
    """Queue rendered checks, once the claims are committed. Small batches: a
    render takes seconds, and a batch runs one page after another."""
    _enqueue_in_batches(render_batch, claims, RENDER_BATCH_SIZE)


def _enqueue_in_batches(task: TaskRef[[Payload]], claims: Sequence[Claim], size: int) -> None:
    task.on_commit_each(
        [
            ([claim.to_json() for claim in claims[start : start + size]],)
            for start in range(0, len(claims), size)
        ]
    )


def dispatch_due() -> int:
    """Claim what is due, at most VERIFIER_DISPATCH_MAX, and queue its checks;
    return how many were claimed."""
    claimed, now, scheduled_from = 0, timezone.now(), _EPOCH
    while claimed < settings.VERIFIER_DISPATCH_MAX:
        with transaction.atomic():
            claims, last = _claim_chunk(
                limit=min(CLAIM_CHUNK, settings.VERIFIER_DISPATCH_MAX - claimed),
                now=now,
                scheduled_from=scheduled_from,
            )
            enqueue_checks(claims)
        claimed += len(claims)
        if len(claims) < CLAIM_CHUNK or last is None:
            break
        # Rows sharing the last schedule may be left; >= takes them next time.
        scheduled_from = last
    return claimed


def claims_from_json(payload: Sequence[Sequence[object]]) -> list[Claim]:
    return [Claim.from_json(item) for item in payload]


def request_check(backlink: Backlink, *, now: datetime | None = None) -> datetime:
    """ "Re-check now": claim the backlink and queue its check at once. Returns the
    request time; the page polls until ``last_checked_at`` passes it."""
    now = now or timezone.now()
    claims = claim([backlink.pk], now=now)
    Backlink.objects.filter(pk=backlink.pk).update(check_requested_at=now)
    backlink.check_requested_at, backlink.lease_until = now, claims[0].lease
    enqueue_checks(claims)
    return now
