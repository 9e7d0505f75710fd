"""A backlink's check history, kept from growing without bound.

Every check that changed something stays in full: its verdict, HTTP status,
final URL, anchors (text, rel, placement, kind), flags, differences or error
differ from the check before it, it moved the link between live and not live
(``live_changed``), or it holds a snippet (the page changed). So do the last
CHECK_FOLD_KEEP_LAST checks of each backlink and every check younger than
CHECK_FOLD_AFTER_DAYS. The rest repeat a kept check exactly: they are folded
into one CheckSummary per backlink, per CHECK_FOLD_PERIOD and per repeated
check, with their count and first and last times. The history page, the API,
the live-over-time chart (which reads only ``live_changed`` rows) and the
lost/recovered counts (from alerts) answer what they answered before.

Folding claims backlinks with ``SELECT … FOR UPDATE SKIP LOCKED``: a checker
recording a backlink holds the same row lock (links.services.record_checks),
so the two never interleave on one backlink and neither waits on the other.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Subquery, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce, Length
from django.utils import timezone

from links.models import Backlink, CheckSummary, LinkCheck

log = logging.getLogger(__name__)

# What a check found: a check equal to the one before it in all of these
# (and with no snippet, and no live transition) changed nothing.
SIGNATURE_FIELDS = (
    "verdict",
    "http_status",
    "final_url",
    "anchors",
    "flags",
    "differences",
    "error",
)
PERIODS = (CheckSummary.PeriodKind.DAY, CheckSummary.PeriodKind.WEEK, CheckSummary.PeriodKind.MONTH)


def period_start(at: datetime, kind: str) -> date:
    """The first day (UTC) of the day, week (from Monday) or month holding ``at``."""
    day = at.astimezone(UTC).date()
    if kind == CheckSummary.PeriodKind.DAY:
        return day
    if kind == CheckSummary.PeriodKind.WEEK:
        return day - timedelta(days=day.weekday())
    if kind == CheckSummary.PeriodKind.MONTH:
        return day.replace(day=1)
    raise ValueError(f"unknown fold period {kind!r} (day, week or month)")


def signature(row: Any) -> tuple[Any, ...]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return tuple(get(name) for name in SIGNATURE_FIELDS)


@dataclass(frozen=True)
class FoldResult:
    # Where the next batch starts (0 once the last backlink was passed).
    next_after_id: int
    backlinks: int
    folded: int
    summaries: int


def fold_batch(
    *,
    after_id: int = 0,
    now: datetime | None = None,
    batch_size: int | None = None,
    keep_last: int | None = None,
    after_days: int | None = None,
    period: str | None = None,
) -> FoldResult:
    """Fold the checks of the next ``batch_size`` backlinks after ``after_id``
    (in id order) that no one else holds locked, in one short transaction."""
    now = now or timezone.now()
    batch_size = batch_size or settings.CHECK_FOLD_BATCH_SIZE
    keep_last = settings.CHECK_FOLD_KEEP_LAST if keep_last is None else keep_last
    after_days = settings.CHECK_FOLD_AFTER_DAYS if after_days is None else after_days
    period = period or settings.CHECK_FOLD_PERIOD
    if period not in PERIODS:
        raise ValueError(f"CHECK_FOLD_PERIOD is {period!r}; use day, week or month")
    cutoff = now - timedelta(days=after_days)
    with transaction.atomic():
        # A backlink a checker is recording is skipped: the next pass gets it.
        ids = list(
            Backlink.objects.select_for_update(skip_locked=True)
            .filter(pk__gt=after_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return FoldResult(0, 0, 0, 0)
        folded, summaries = _fold(ids, cutoff=cutoff, keep_last=max(keep_last, 0), period=period)
    return FoldResult(ids[-1], len(ids), folded, summaries)


def _fold_from(after_id: int, deadline: float, **options: Any) -> FoldResult:
    """Fold batch after batch from ``after_id``, until the walk reaches the last
    backlink or the monotonic ``deadline`` passes; the result's next_after_id
    is where to go on (0: the walk is done)."""
    backlinks, folded, summaries = 0, 0, 0
    while True:
        result = fold_batch(after_id=after_id, **options)
        backlinks += result.backlinks
        folded += result.folded
        summaries += result.summaries
        after_id = result.next_after_id
        if not after_id or time.monotonic() >= deadline:
            return FoldResult(after_id, backlinks, folded, summaries)


def fold_all(**options: Any) -> FoldResult:
    """Fold every backlink, batch after batch (tests, benchmarks, a first run)."""
    return _fold_from(0, math.inf, **options)


# Where the periodic task's next batch starts, shared by every worker (Redis
# when configured); lost, the walk starts again from the first backlink.
CURSOR_KEY = "links:check-fold-cursor"
# A run of the task folds batches for at most this long, then leaves the rest
# to the next run (every ten minutes).
SECONDS_PER_RUN = 60


def fold_some(*, now: datetime | None = None, seconds: float = SECONDS_PER_RUN) -> FoldResult:
    """Fold batches from where the last run stopped, until the walk reaches the
    last backlink or ``seconds`` have passed."""
    cache = caches["heartbeats"]
    after_id = int(cache.get(CURSOR_KEY) or 0)
    result = _fold_from(after_id, time.monotonic() + seconds, now=now)
    cache.set(CURSOR_KEY, result.next_after_id, timeout=None)
    return result


# The JSON fields are compared as text: jsonb's text is canonical on
# PostgreSQL (SQLite keeps what was written, which the verifier writes alike),
# and decoding every old check's anchors was most of the folding's time.
JSON_FIELDS = ("anchors", "flags", "differences")
COMPARED = tuple(f"{name}_text" if name in JSON_FIELDS else name for name in SIGNATURE_FIELDS)


def _fold(ids: Sequence[int], *, cutoff: datetime, keep_last: int, period: str) -> tuple[int, int]:
    rows = (
        LinkCheck.objects.filter(backlink_id__in=ids)
        .order_by("backlink_id", "checked_at", "id")
        .annotate(
            snippet_length=Length("snippet"),
            **{f"{name}_text": Cast(name, TextField()) for name in JSON_FIELDS},
        )
        .values("id", "backlink_id", "checked_at", "live_changed", "snippet_length", *COMPARED)
    )
    by_backlink: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_backlink.setdefault(row["backlink_id"], []).append(row)

    def compared(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in COMPARED)

    # (backlink, period start, run start) -> the folded checks of that group.
    groups: dict[tuple[int, date, datetime], list[dict[str, Any]]] = {}
    for backlink_id, checks in by_backlink.items():
        foldable_until = len(checks) - keep_last
        previous: dict[str, Any] | None = None
        run_started_at: datetime | None = None
        for index, check in enumerate(checks):
            changed = (
                previous is None
                or check["live_changed"]
                or check["snippet_length"]
                or compared(check) != compared(previous)
            )
            previous = check
            if changed:
                run_started_at = check["checked_at"]
                continue
            if index >= foldable_until or check["checked_at"] >= cutoff:
                continue
            assert run_started_at is not None
            key = (backlink_id, period_start(check["checked_at"], period), run_started_at)
            groups.setdefault(key, []).append(check)
    if not groups:
        return 0, 0

    existing = {
        (s.backlink_id, s.period_start, s.run_started_at): s
        for s in CheckSummary.objects.filter(
            backlink_id__in={key[0] for key in groups},
            period_kind=period,
            period_start__in={key[1] for key in groups},
            run_started_at__in={key[2] for key in groups},
        )
    }
    created: list[CheckSummary] = []
    updated: list[CheckSummary] = []
    folded: list[dict[str, Any]] = []
    for key, checks in groups.items():
        summary = existing.get(key)
        if summary is None and len(checks) == 1:
            # A summary of one check saves nothing: it waits for company.
            continue
        folded.extend(checks)
        first, last = checks[0]["checked_at"], checks[-1]["checked_at"]
        if summary is None:
            row = checks[0]
            created.append(
                CheckSummary(
                    backlink_id=key[0],
                    period_kind=period,
                    period_start=key[1],
                    run_started_at=key[2],
                    count=len(checks),
                    first_checked_at=first,
                    last_checked_at=last,
                    **{
                        name: json.loads(row[f"{name}_text"]) if name in JSON_FIELDS else row[name]
                        for name in SIGNATURE_FIELDS
                    },
                )
            )
        else:
            summary.count += len(checks)
            summary.first_checked_at = min(summary.first_checked_at, first)
            summary.last_checked_at = max(summary.last_checked_at, last)
            updated.append(summary)
    if not folded:
        return 0, 0
    CheckSummary.objects.bulk_create(created)
    CheckSummary.objects.bulk_update(updated, ["count", "first_checked_at", "last_checked_at"])
    deleted = _delete(folded)
    if deleted != len(folded):
        # Rows vanished under us (a backlink deleted?): roll the batch back.
        raise RuntimeError(f"folded {len(folded)} checks but deleted {deleted}")
    return len(folded), len(created)


def _delete(checks: Sequence[dict[str, Any]]) -> int:
    if connection.vendor != "postgresql":
        deleted, _ = LinkCheck.objects.filter(id__in=[c["id"] for c in checks]).delete()
        return deleted
    # By key, (id, checked_at): each row is found in its month's partition by
    # the primary key, instead of every id probed in every partition.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM links_linkcheck l USING unnest(%s::bigint[], %s::timestamptz[]) "
            "AS f(id, at) WHERE l.id = f.id AND l.checked_at = f.at",
            [[c["id"] for c in checks], [c["checked_at"] for c in checks]],
        )
        return cursor.rowcount


# --- Reading the history -------------------------------------------------------


def history_page(backlink: Backlink, number: Any, per_page: int) -> tuple[Page, int]:
    """One page of the backlink's history, newest first: kept checks and folded
    summaries (``is_folded``) in one order, from one union query; and how many
    checks the backlink had, folded ones included."""
    kept, summaries, folded = _counts(backlink)
    checks = (
        LinkCheck.objects.filter(backlink=backlink)
        .order_by()
        .annotate(at=F("checked_at"), ref=F("id"), kind=Value(0, output_field=IntegerField()))
        .values_list("at", "ref", "kind")
    )
    folded_rows = (
        CheckSummary.objects.filter(backlink=backlink)
        .order_by()
        .annotate(at=F("last_checked_at"), ref=F("id"), kind=Value(1, output_field=IntegerField()))
        .values_list("at", "ref", "kind")
    )
    entries = checks.union(folded_rows, all=True).order_by("-at", "-kind", "-ref")
    paginator = Paginator(entries, per_page)
    # Counted with the check total above rather than by a second union query.
    paginator.count = kept + summaries  # type: ignore[misc]
    page = paginator.get_page(number)
    page.object_list = resolve(list(page.object_list))
    return page, kept + folded


def resolve(keys: Iterable[tuple[datetime, int, int]]) -> list[LinkCheck | CheckSummary]:
    """The rows behind (time, id, kind) keys, in the keys' order."""
    keys = list(keys)
    checks = LinkCheck.objects.in_bulk([ref for _, ref, kind in keys if kind == 0])
    summaries = CheckSummary.objects.in_bulk([ref for _, ref, kind in keys if kind == 1])
    return [
        checks[ref] if kind == 0 else summaries[ref]
        for _, ref, kind in keys
        if ref in (checks if kind == 0 else summaries)
    ]


def check_count(backlink: Backlink) -> int:
    """How many checks the backlink had, folded ones included."""
    kept, _, folded = _counts(backlink)
    return kept + folded


def _counts(backlink: Backlink) -> tuple[int, int, int]:
    """Kept checks, summaries, and checks folded into them, in one query."""

    def per_backlink(queryset: Any, aggregate: Any) -> Coalesce:
        rows = queryset.filter(backlink=backlink).order_by().values("backlink")
        return Coalesce(Subquery(rows.annotate(n=aggregate).values("n")), 0)

    row = (
        Backlink.objects.filter(pk=backlink.pk)
        .values_list(
            per_backlink(LinkCheck.objects, Count("*")),
            per_backlink(CheckSummary.objects, Count("*")),
            per_backlink(CheckSummary.objects, Sum("count")),
        )
        .first()
    )
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


@dataclass(frozen=True)
class Run:
    """Consecutive checks that found the same thing."""

    signature: tuple[Any, ...]
    first_checked_at: datetime
    last_checked_at: datetime
    count: int

    @property
    def verdict(self) -> str:
        return self.signature[0]


def runs(backlink: Backlink) -> list[Run]:
    """The backlink's whole history as runs, oldest first: the same before and
    after folding, which is what folding promises."""
    entries: list[tuple[datetime, tuple[Any, ...], datetime, int]] = []
    for check in LinkCheck.objects.filter(backlink=backlink).values(
        "checked_at", *SIGNATURE_FIELDS
    ):
        at = check["checked_at"]
        entries.append((at, signature(check), at, 1))
    for summary in CheckSummary.objects.filter(backlink=backlink):
        entries.append(
            (summary.first_checked_at, signature(summary), summary.last_checked_at, summary.count)
        )
    entries.sort(key=lambda entry: entry[0])
    result: list[Run] = []
    for first, sig, last, count in entries:
        if result and result[-1].signature == sig:
            run = result[-1]
            result[-1] = Run(sig, run.first_checked_at, last, run.count + count)
        else:
            result.append(Run(sig, first, last, count))
    return result
