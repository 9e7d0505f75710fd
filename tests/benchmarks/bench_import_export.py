"""Exports of 12,500 prospects and 12,500 backlinks (CSV and XLSX, through the
download views) and the import of 100,000 prospect rows; prints milliseconds
per export, rows/s for the import, and the load average (the machine is shared).

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_import_export.py \
        [--rounds 3] [--rows 12500] [--import-rows 100000] [--skip-import]

Uses the DATABASE_URL database (a throwaway one under with-services.sh), after
migrating it. Targets (issue 17): every CSV export < 300 ms; import >= 20,000
rows/s. Each figure is the median of ``--rounds`` runs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("IMPORT_MAX_ROWS", "1000000")
os.environ.setdefault("IMPORT_MAX_BYTES", str(200 * 1024 * 1024))
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

EXPORT_TARGET_MS = 300
IMPORT_TARGET_ROWS_PER_SECOND = 20_000


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} cores"


def seed(campaign, users, rows: int) -> None:
    """``rows`` prospects (tags, assignees, notes, HARO deadlines) and as many
    backlinks, written by COPY."""
    from django.utils import timezone

    from campaigns.models import TargetPage
    from links.models import Backlink, BacklinkState
    from links.verification.urls import url_key
    from outreach.imports.copy import insert_rows
    from outreach.models import Kind, Prospect, Status, Tag

    rng = random.Random(17)
    now = timezone.now()
    target = TargetPage.objects.create(campaign=campaign, url="https://ours.example/guide/")
    tags = [Tag.objects.create(campaign=campaign, name=f"tag-{i}") for i in range(12)]
    kinds, statuses = list(Kind), list(Status)
    prospect_rows = []
    for i in range(rows):
        kind = kinds[i % 4]
        url = f"https://site{i}.example/blog/post-{i}/"
        prospect_rows.append(
            {
                "campaign_id": campaign.pk,
                "kind": kind,
                "status": statuses[i % len(statuses)],
                "url": url,
                "url_key": url_key(url),
                "domain": f"site{i}.example",
                "contact_name": f"Editor {i}",
                "contact_email": f"editor{i}@site{i}.example",
                "domain_rating": rng.randrange(0, 101),
                "niche": rng.choice(["", "running", "=sum", "travel"]),
                "notes": rng.choice(["", "Found via search", "-follow up in May", "long " * 20]),
                "assignee_id": rng.choice([None, *[u.pk for u in users]]),
                "next_follow_up": rng.choice([None, date(2025, 6, 1) + timedelta(days=i % 90)]),
                "outlet": "Daily News" if kind == Kind.HARO else "",
                "query_text": "Looking for experts" if kind == Kind.HARO else "",
                "deadline": now + timedelta(days=i % 30) if kind == Kind.HARO else None,
                "dead_url": f"https://site{i}.example/gone" if kind == Kind.BROKEN_LINK else "",
                "offered_target_id": target.pk if kind == Kind.BROKEN_LINK else None,
                "fee": Decimal("150.00") if kind == Kind.GUEST_POST else None,
                "created_at": now - timedelta(minutes=i),
                "updated_at": now,
            }
        )
    ids = insert_rows(Prospect, prospect_rows, returning_ids=True)
    insert_rows(
        Prospect.tags.through,
        [
            {"prospect_id": pk, "tag_id": tag.pk}
            for index, pk in enumerate(ids)
            for tag in tags[index % 5 : index % 5 + index % 4]
        ],
    )
    states = [BacklinkState.LIVE, BacklinkState.LIVE, BacklinkState.NOFOLLOW, BacklinkState.PENDING]
    backlink_rows = []
    for i in range(rows):
        source = f"https://source{i}.example/article-{i}/"
        checked = now - timedelta(hours=i % 500)
        backlink_rows.append(
            {
                "campaign_id": campaign.pk,
                "target_page_id": target.pk if i % 2 else None,
                "prospect_id": ids[i] if i % 3 else None,
                "source_url": source,
                "source_url_key": url_key(source),
                "source_domain": f"source{i}.example",
                "target_url": target.url,
                "target_url_key": url_key(target.url),
                "expected_anchor_text": rng.choice(["running guide", "=cmd", "our guide"]),
                "won_by_id": rng.choice([None, *[u.pk for u in users]]),
                "won_on": date(2025, 1, 1) + timedelta(days=i % 300),
                "cost": Decimal("80.00") if i % 4 == 0 else None,
                "state": states[i % len(states)],
                "last_verdict": "live" if i % 4 != 3 else "",
                "placement": "content" if i % 4 != 3 else "",
                "link_kind": "text" if i % 4 != 3 else "",
                "first_seen_at": checked if i % 4 != 3 else None,
                "last_checked_at": checked if i % 4 != 3 else None,
                "next_check_at": now + timedelta(days=i % 30),
                "created_at": now,
            }
        )
    insert_rows(Backlink, backlink_rows)


def timed(rounds: int, run: Callable[[], int]) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        size = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def bench_exports(campaign, user, rounds: int, rows: int) -> list[tuple[str, float]]:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    results = []
    for label, name in [
        ("prospects CSV", "campaigns:prospects_export"),
        ("prospects XLSX", "exports:prospects_xlsx"),
        ("backlinks CSV", "campaigns:backlinks_export"),
        ("backlinks XLSX", "exports:backlinks_xlsx"),
    ]:
        url = reverse(name, args=[campaign.slug])

        def download(url: str = url) -> int:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return sum(len(chunk) for chunk in response.streaming_content)

        ms, size = timed(rounds, download)
        results.append((label, ms))
        print(f"export {label:15} {rows:,} rows: {ms:7.0f} ms  ({size / 1024:,.0f} KB)  {load()}")
    return results


def bench_import(admin, rounds: int, rows: int) -> float:
    from bench_import import generate

    from campaigns.models import Campaign
    from outreach.imports import services

    rates = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prospects.csv"
        generate(path, rows)
        for round_ in range(rounds):
            slug = f"bench-import-{int(time.time())}-{round_}"
            campaign = Campaign.objects.create(
                slug=slug, name=slug, site="ours.example", owner=admin
            )
            started, cpu = time.perf_counter(), time.process_time()
            summary = services.import_path(path, campaign=campaign, target="prospects", by=admin)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            rates.append(summary.rows / elapsed)
            print(
                f"import {rows:,} rows: {elapsed:5.2f} s ({cpu:4.1f} s Python CPU) "
                f"{summary.rows / elapsed:8,.0f} rows/s  ({summary.line()})  {load()}"
            )
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=12_500)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Run under scripts/with-services.sh: the benchmark is for PostgreSQL.")
    call_command("migrate", verbosity=0)
    sys.path.insert(0, str(Path(__file__).parent))

    from campaigns.models import Campaign, Membership, Role, User

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})
    print(f"start: {load()}")
    ok = True
    if not args.skip_export:
        slug = f"bench-export-{int(time.time())}"
        campaign = Campaign.objects.create(slug=slug, name=slug, site="ours.example", owner=admin)
        users = [User.objects.create(username=f"{slug}-u{i}") for i in range(5)]
        Membership.objects.bulk_create([Membership(campaign=campaign, user=u) for u in users])
        started = time.perf_counter()
        seed(campaign, users, args.rows)
        print(
            f"seeded {args.rows:,} prospects and backlinks in {time.perf_counter() - started:.1f} s"
        )
        results = bench_exports(campaign, admin, args.rounds, args.rows)
        csv_ok = all(ms < EXPORT_TARGET_MS for label, ms in results if "CSV" in label)
        ok = ok and csv_ok
        print(f"target: CSV exports < {EXPORT_TARGET_MS} ms: {'met' if csv_ok else 'NOT met'}")
    if not args.skip_import:
        rate = bench_import(admin, args.rounds, args.import_rows)
        met = rate >= IMPORT_TARGET_ROWS_PER_SECOND
        ok = ok and met
        print(
            f"import median {rate:,.0f} rows/s; target >= {IMPORT_TARGET_ROWS_PER_SECOND:,}: "
            f"{'met' if met else 'NOT met'}"
        )
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
