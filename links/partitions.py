"""The check table's monthly partitions on PostgreSQL (links/0015).

``links_linkcheck`` is partitioned by range of ``checked_at``, one partition per
calendar month (UTC) named ``links_linkcheck_pYYYY_MM``, plus a default
partition that catches a check outside every month created so far (a seeded
or imported history, a clock far off). The periodic task keeps the months
CHECK_PARTITIONS_AHEAD ahead created, moves any month the default partition
holds into its own partition, and drops the months older than
CHECK_RETENTION_MONTHS: ``DROP TABLE`` of one partition, instead of a DELETE
of millions of rows. Before a month goes, its checks leave one ``retained``
CheckSummary per backlink (count, last verdict, and the net live transitions
the live-over-time chart needs to start the kept months at the right level).

SQLite (``make run``) has no partitions: every function here does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

from config import tallies

TABLE = "links_linkcheck"
DEFAULT = f"{TABLE}_default"
NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
# The one ``retained`` summary per backlink is keyed by this date and time.
RETAINED_KEY = date(1970, 1, 1)


def month_of(at: datetime | date) -> date:
    if isinstance(at, datetime):
        at = at.astimezone(UTC).date()
    return at.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month.year:04d}_{month.month:02d}"


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = to_regclass(%s)", [TABLE]
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def months() -> list[date]:
    """The months that have a partition, oldest first."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = [NAME.match(name) for name in names]
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


def _bounds(month: date) -> tuple[str, str]:
    return f"{month.isoformat()} 00:00:00+00", f"{add_months(month, 1).isoformat()} 00:00:00+00"


def create_month(month: date) -> bool:
    """Give ``month`` its partition, moving in any of its checks the default
    partition holds; False when it already has one."""
    if month in months():
        return False
    name, (start, end) = partition_name(month), _bounds(month)
    with transaction.atomic(), connection.cursor() as cursor:
        # Inserts into the default partition wait the few moments this takes, so
        # none lands there for this month between the move and the attach.
        cursor.execute(f"LOCK TABLE {DEFAULT} IN EXCLUSIVE MODE")
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        # Moved rows keep their live_changed: the trigger is on the parent only.
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE checked_at >= %s AND checked_at < %s "  # noqa: S608 (names built here)
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )
    return True


def months_in_default() -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', checked_at AT TIME ZONE 'UTC')::date "  # noqa: S608
            f"FROM {DEFAULT}"
        )
        return sorted(row[0] for row in cursor.fetchall())


def ensure(now: datetime, ahead: int) -> list[date]:
    """Create this month's partition and ``ahead`` more, and one for each month
    the default partition holds checks of; returns the months created."""
    if not is_partitioned():
        return []
    current = month_of(now)
    wanted = {add_months(current, n) for n in range(ahead + 1)} | set(months_in_default())
    # One catalog read per run: create_month checks again, for its other callers.
    missing = wanted - set(months())
    return [month for month in sorted(missing) if create_month(month)]


@dataclass(frozen=True)
class Dropped:
    month: date
    checks: int


def drop_before(boundary: date) -> list[Dropped]:
    """Drop every month partition that ends on or before ``boundary`` (a first
    of the month), oldest first, leaving each backlink's ``retained`` summary."""
    dropped: list[Dropped] = []
    for month in months():
        if add_months(month, 1) > boundary:
            break
        dropped.append(Dropped(month, _drop(month)))
    return dropped


def apply_retention(now: datetime, retention_months: int) -> list[Dropped]:
    """Drop the months older than ``retention_months`` whole months before this
    one (0: keep everything)."""
    if retention_months <= 0 or not is_partitioned():
        return []
    return drop_before(add_months(month_of(now), -retention_months))


def _drop(month: date) -> int:
    name = partition_name(month)
    _, end = _bounds(month)
    key = [RETAINED_KEY, datetime(1970, 1, 1, tzinfo=UTC)]
    with transaction.atomic(), connection.cursor() as cursor:
        # A table with deferred foreign-key checks pending in this transaction
        # (rows written earlier in it) cannot be dropped: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # No late check may land in the month between its summaries, the
        # chart counts it takes out, and the DROP.
        cursor.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
        # The summaries of checks folded in that month go with it, into the
        # backlink's retained count.
        cursor.execute(
            """
            WITH gone AS (
                DELETE FROM links_checksummary
                WHERE period_kind <> 'retained' AND last_checked_at < %s
                RETURNING *
            )
            INSERT INTO links_checksummary AS s (
                backlink_id, period_kind, period_start, run_started_at, count,
                first_checked_at, last_checked_at, verdict, http_status, final_url,
                anchors, flags, differences, error, live_delta)
            SELECT DISTINCT ON (backlink_id)
                backlink_id, 'retained', %s, %s,
                SUM(count) OVER (PARTITION BY backlink_id),
                MIN(first_checked_at) OVER (PARTITION BY backlink_id),
                MAX(last_checked_at) OVER (PARTITION BY backlink_id),
                verdict, http_status, final_url, anchors, flags, differences, error, 0
            FROM gone ORDER BY backlink_id, last_checked_at DESC
            ON CONFLICT (backlink_id, period_kind, period_start, run_started_at) DO UPDATE
            SET count = s.count + EXCLUDED.count,
                last_checked_at = GREATEST(s.last_checked_at, EXCLUDED.last_checked_at)
            """,
            [end, *key],
        )
        cursor.execute(
            f"""
            INSERT INTO links_checksummary AS s (
                backlink_id, period_kind, period_start, run_started_at, count,
                first_checked_at, last_checked_at, verdict, http_status, final_url,
                anchors, flags, differences, error, live_delta)
            SELECT t.backlink_id, 'retained', %s, %s, t.n, t.first, t.last,
                   l.verdict, l.http_status, l.final_url, l.anchors, l.flags,
                   l.differences, l.error, t.delta
            FROM (
                SELECT backlink_id, COUNT(*) n, MIN(checked_at) first, MAX(checked_at) last,
                       SUM(CASE WHEN NOT live_changed THEN 0
                                WHEN verdict = 'live' THEN 1 ELSE -1 END) delta
                FROM {name} GROUP BY backlink_id
            ) t
            CROSS JOIN LATERAL (
                SELECT * FROM {name} p WHERE p.backlink_id = t.backlink_id
                ORDER BY p.checked_at DESC, p.id DESC LIMIT 1
            ) l
            ON CONFLICT (backlink_id, period_kind, period_start, run_started_at) DO UPDATE
            SET count = s.count + EXCLUDED.count,
                first_checked_at = LEAST(s.first_checked_at, EXCLUDED.first_checked_at),
                last_checked_at = GREATEST(s.last_checked_at, EXCLUDED.last_checked_at),
                verdict = EXCLUDED.verdict, http_status = EXCLUDED.http_status,
                final_url = EXCLUDED.final_url, anchors = EXCLUDED.anchors,
                flags = EXCLUDED.flags, differences = EXCLUDED.differences,
                error = EXCLUDED.error, live_delta = s.live_delta + EXCLUDED.live_delta
            """,  # noqa: S608 (the partition's name is built here)
            key,
        )
        cursor.execute(f"SELECT COUNT(*) FROM {name}")  # noqa: S608
        checks = cursor.fetchone()[0]
        # Its live transitions now stand in the retained summaries, which the
        # chart's per-day counts follow; DROP TABLE fires no trigger.
        cursor.execute(tallies.LIVE_CHECKS.forget(name, "postgresql"))
        # The month itself: one statement, whatever its size.
        cursor.execute(f"DROP TABLE {name}")
    return int(checks)
