"""Benchmark the dispatcher: claim 10,000 due backlinks and queue their checks.
Prints figures, asserts nothing; run on demand:

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_dispatch.py

It uses the API benchmark's database (``<name>_bench_api``: 100,000 backlinks
with every index of the table, seeded by tests/benchmarks/bench_api.py's seed
when missing; ``--scale N`` seeds N times that into ``<name>_bench_api_xN``),
makes ``--due`` of the backlinks due, and times ``dispatch.dispatch_due()``
end to end as beat runs it: the claims (one UPDATE ... RETURNING per chunk)
and the publishing of the check tasks to the Redis broker. Each round makes
another set of rows due, after a VACUUM (untimed). The broker's queue is purged
after each round: no worker runs. ``--held N`` also leaves N overdue backlinks
held by (imaginary) checks still in flight, which every claim steps over.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dashboard as base

TARGET_S = 1.0


def measure(due: int, rounds: int, held: int = 0) -> None:
    from django.conf import settings
    from django.db import connection

    from config.celery import app
    from config.enqueue import TaskRef
    from links import dispatch
    from links.models import Backlink

    settings.VERIFIER_DISPATCH_MAX = due
    spent = {"claim": 0.0, "publish": 0.0}
    claim_chunk, delay_each = dispatch._claim_chunk, TaskRef.delay_each

    def timed_claim(**kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return claim_chunk(**kwargs)
        finally:
            spent["claim"] += time.perf_counter() - started

    def timed_publish(self, calls):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return delay_each(self, calls)
        finally:
            spent["publish"] += time.perf_counter() - started

    dispatch._claim_chunk = timed_claim
    TaskRef.delay_each = timed_publish  # type: ignore[method-assign]
    total = Backlink.objects.count()
    table = Backlink._meta.db_table
    walls, claims, publishes, cpus = [], [], [], []
    server = base.ServerCPU(connection)
    for n in range(rounds):
        with connection.cursor() as cursor:
            # Nothing due and nothing held (the last round's checks recorded),
            # then ``due`` rows of this round (a different set each time),
            # overdue by up to an hour.
            cursor.execute(
                f"UPDATE {table} SET next_check_at = now() + interval '7 days', lease_until = NULL"  # noqa: S608
            )
            cursor.execute(
                f"UPDATE {table} SET next_check_at = now() - (id %% 3600) * interval '1 second' "  # noqa: S608
                "WHERE id IN (SELECT id FROM links_backlink ORDER BY md5(id::text || %s) LIMIT %s)",
                [str(n), due],
            )
            if held:
                # Checks still in flight from earlier dispatches: overdue for
                # longer than this round's rows, so the first index entries
                # the claims step over.
                cursor.execute(
                    f"UPDATE {table} SET next_check_at = now() - interval '2 hours', "  # noqa: S608
                    "lease_until = now() + interval '15 minutes' WHERE id IN (SELECT id FROM "
                    f"{table} WHERE next_check_at > now() ORDER BY md5(id::text || %s) LIMIT %s)",
                    [f"held{n}", held],
                )
            cursor.execute(f"VACUUM ANALYZE {table}")
        app.control.purge()
        spent.update(claim=0.0, publish=0.0)
        cpu_before = server.now()
        started = time.perf_counter()
        claimed = dispatch.dispatch_due()
        wall = time.perf_counter() - started
        cpu_after = server.now()
        cpu = (cpu_after - cpu_before) / 1000 if cpu_before and cpu_after else float("nan")
        walls.append(wall)
        cpus.append(cpu)
        claims.append(spent["claim"])
        publishes.append(spent["publish"])
        messages = -(-claimed // settings.VERIFIER_BATCH_SIZE)
        print(
            f"  round {n + 1}: {claimed:,} of {total:,} backlinks claimed in {wall:.2f} s "
            f"(claims {spent['claim']:.2f} s, publishing {messages} messages "
            f"{spent['publish']:.2f} s); CPU of Django + PostgreSQL {cpu:.2f} s"
        )
    app.control.purge()
    print(
        f"  median: {statistics.median(walls):.2f} s (claims {statistics.median(claims):.2f} s, "
        f"publishing {statistics.median(publishes):.2f} s), CPU {statistics.median(cpus):.2f} s; "
        f"target < {TARGET_S:.0f} s"
    )
    probe(due)


def probe(due: int) -> None:
    """Where a claim's time goes: the same number of rows updated with and
    without touching an indexed column (a non-HOT update writes a new entry
    into every index of the table; a HOT one, into none), rolled back. A claim
    sets lease_until; before migration links/0019 it moved next_check_at."""
    from django.db import connection, transaction

    from links.models import Backlink

    table = Backlink._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])
        indexes = cursor.fetchone()[0]
        cursor.execute(f"VACUUM {table}")
    for column in ("next_check_at", "lease_until"):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                f"UPDATE {table} SET {column} = now() "  # noqa: S608
                f"WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s)",
                [due],
            )
            took = time.perf_counter() - started
            transaction.set_rollback(True)
        print(
            f"  probe: {due:,} rows, SET {column:18} {took:.2f} s ({indexes} indexes on the table)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=10_000, help="backlinks due per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="times 100,000 backlinks")
    parser.add_argument(
        "--held",
        type=int,
        default=0,
        help="overdue backlinks still held by earlier dispatches' checks in each round",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL: run me under scripts/with-services.sh")
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "anchorage") + "_bench_api"
    if args.scale > 1:
        name += f"_x{args.scale}"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    existed = base.recreate_database(url, reuse=True)
    base.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not existed:
        print(f"Seeding {name} ...")
        base.CHECKS_PER_BACKLINK = 1
        base.scale(args.scale)
        base.seed()
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    held = f" past {args.held:,} held ones" if args.held else ""
    print(
        f"Dispatching {args.due:,} due backlinks{held}; {os.cpu_count()} CPUs, load average {load}:"
    )
    measure(args.due, args.rounds, args.held)


if __name__ == "__main__":
    main()
