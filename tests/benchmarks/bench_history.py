"""Rows and bytes of check history per backlink-year, before and after folding
(links.history), for a weekly and a daily check cadence and each fold period.
Prints figures, asserts nothing; run on demand:

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_history.py [--backlinks 500]

It uses its own database next to DATABASE_URL's (``<name>_bench_history``,
dropped and re-created), migrates it (so the check table is partitioned by
month), and for each cadence seeds one year of checks for ``--backlinks``
backlinks with INSERT ... SELECT generate_series: live with the same anchor,
HTTP 200 and page, except that each backlink is missing for two checks once in
the year and its page changes twice (the snippet is stored on those checks
only, as the verifier does). Then, for each period (day, week, month), it folds
with the defaults (last 10 checks kept, checks older than 30 days folded) and
measures: rows (checks + summaries) and bytes (the check partitions and the
summary table with their indexes, after VACUUM FULL, i.e. the space the rows
take once autovacuum lets new checks reuse what folding freed), per backlink
and year of history, and the folding rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from bench_dashboard import recreate_database, setup_django  # noqa: E402

END = datetime(2026, 11, 30, tzinfo=UTC)  # the year of history ends here
CADENCES = {"weekly": timedelta(days=7), "daily": timedelta(days=1)}
PERIODS = ("day", "week", "month")
ANCHORS = (
    '[{"href": "https://client.example/guide/", "text": "our guide", "rel": "", '
    '"dofollow": true, "kind": "text", "placement": "content"}]'
)
SNIPPET = "<p>" + "Some words of the article around the link. " * 8 + "</p>"


def seed(backlinks: int, step: timedelta) -> int:
    from django.db import connection

    from links import partitions
    from links.models import Backlink
    from tests.factories import CampaignFactory

    campaign = CampaignFactory()
    rows = []
    for n in range(backlinks):
        backlink = Backlink(
            campaign=campaign,
            source_url=f"https://blog{n}.example/post/{n}/",
            target_url="https://client.example/guide/",
            expected_anchor_text="our guide",
        )
        backlink.set_urls(backlink.source_url, backlink.target_url)
        rows.append(backlink)
    Backlink.objects.bulk_create(rows)
    checks = int(timedelta(days=365) / step)
    start = END - step * checks
    month = partitions.month_of(start)
    while month <= partitions.month_of(END):
        partitions.create_month(month)
        month = partitions.add_months(month, 1)
    with connection.cursor() as cursor:
        # m: the check at which this backlink goes missing for two checks;
        # its page changes at m and again at m + 2 (back).
        cursor.execute(
            """
            INSERT INTO links_linkcheck (
                backlink_id, checked_at, verdict, http_status, final_url, anchors, flags,
                differences, snippet, page_hash, error, duration_ms, bytes_read, live_changed)
            SELECT b.id, %(start)s + i * %(step)s + (b.id %% 3600) * interval '1 second',
                   CASE WHEN i - m IN (0, 1) THEN 'missing' ELSE 'live' END,
                   200, b.source_url,
                   CASE WHEN i - m IN (0, 1) THEN '[]'::jsonb ELSE %(anchors)s::jsonb END,
                   '{}'::jsonb, '[]'::jsonb,
                   CASE WHEN i IN (0, m, m + 2) THEN %(snippet)s ELSE '' END,
                   md5(b.id::text || (i >= m)::int + (i >= m + 2)::int) || md5(b.id::text),
                   '', 250 + (i * 37 + b.id) %% 400, 172000 + (b.id %% 5000), false
            FROM (SELECT id, source_url, 5 + (id * 7) %% (%(checks)s - 30) AS m
                  FROM links_backlink) b
            CROSS JOIN generate_series(0, %(checks)s - 1) i
            ORDER BY b.id, i
            """,
            {
                "start": start,
                "step": step,
                "checks": checks,
                "anchors": ANCHORS,
                "snippet": SNIPPET,
            },
        )
    return checks


def measure() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL links_linkcheck")
        cursor.execute("VACUUM FULL links_checksummary")
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM links_linkcheck)"
            " + (SELECT COUNT(*) FROM links_checksummary),"
            " (SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits"
            "   WHERE inhparent = 'links_linkcheck'::regclass)"
            " + pg_total_relation_size('links_checksummary')"
        )
        rows, size = cursor.fetchone()
    return int(rows), int(size)


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE links_linkcheck, links_checksummary, links_backlink, campaigns_campaign"
            " CASCADE"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlinks", type=int, default=500)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL: run me under scripts/with-services.sh")
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/') or 'anchorage'}_bench_history"))
    recreate_database(url, reuse=False)
    setup_django(url)
    from django.core.management import call_command

    from links import history

    call_command("migrate", verbosity=0)
    n = args.backlinks
    print(f"{n} backlinks, one year of checks each; per backlink-year:")
    print(
        f"{'cadence':8} {'period':9} {'rows':>7} {'bytes':>9} {'rows x':>7} {'bytes x':>7}"
        f" {'fold':>14}"
    )
    for cadence, step in CADENCES.items():
        for period in (None, *PERIODS):
            reset()
            started = time.perf_counter()
            checks = seed(n, step)
            seeded = time.perf_counter() - started
            if period is None:
                rows, size = measure()
                before = (rows, size)
                print(
                    f"{cadence:8} {'(none)':9} {rows / n:7.1f} {size / n:9,.0f} {'':>7} {'':>7}"
                    f" {'':>14}   (seeded {checks * n:,} checks in {seeded:.1f} s)"
                )
                continue
            started = time.perf_counter()
            result = history.fold_all(now=END + timedelta(days=1), period=period)
            took = time.perf_counter() - started
            rows, size = measure()
            rate = f"{result.folded / took:,.0f} rows/s" if took else "-"
            print(
                f"{cadence:8} {period:9} {rows / n:7.1f} {size / n:9,.0f}"
                f" {before[0] / rows:7.2f} {before[1] / size:7.2f} {rate:>14}"
            )
    print(
        "Command: scripts/with-services.sh .venv/bin/python "
        f"tests/benchmarks/bench_history.py --backlinks {n}"
    )


if __name__ == "__main__":
    main()
