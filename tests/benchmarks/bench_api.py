"""Benchmark the REST API's list endpoints on a large PostgreSQL database.
Prints figures, asserts nothing; run on demand:

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_api.py

It seeds its own database (``<name>_bench_api``; ``--reuse`` keeps a seeded one)
with the dashboard benchmark's seed (tests/benchmarks/bench_dashboard.py:
50,000 prospects, 100,000 backlinks, their history and alerts, INSERT ...
SELECT generate_series), but one link check per backlink instead of ten: the
lists never read the checks. Then, as a manager presenting a Bearer token
(every campaign visible), it times pages of 100 rows in-process with Django's
test Client: each list's first page, a deep page (a cursor far into the rows),
filtered and sorted pages. One warm-up request, then ``--requests`` timed ones;
median, p95 (nearest rank), minimum, CPU of Django + PostgreSQL, and queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dashboard as base

TARGET_P95_MS = 100
PAGE = 100


def pages(campaign: Any) -> list[tuple[str, str]]:
    from api import pagination
    from links import queries as link_queries
    from links.models import Alert, Backlink
    from outreach import queries as prospect_queries
    from outreach.models import Prospect

    def deep(queryset: Any, offset: int) -> str:
        # The cursor a client holds after walking ``offset`` rows (found here
        # with an OFFSET, untimed; the timed request seeks from it).
        terms = pagination.order_terms(queryset)
        row = queryset[offset - 1 : offset].get()
        return pagination.encode(terms, row)

    def prospects(sort: str, offset: int) -> str:
        return deep(prospect_queries.apply_filters(Prospect.objects.all(), {"sort": sort}), offset)

    def backlinks(sort: str, offset: int) -> str:
        return deep(link_queries.apply_filters(Backlink.objects.all(), {"sort": sort}), offset)

    alerts = Alert.objects.order_by("-created_at", "-id")
    prospects_n, links_n = Prospect.objects.count(), Backlink.objects.count()
    c = campaign.pk
    return [
        ("campaigns", "/api/v1/campaigns/"),
        ("target pages", "/api/v1/target-pages/"),
        ("prospects, first page", "/api/v1/prospects/"),
        (
            "prospects, deep page (90 %)",
            f"/api/v1/prospects/?cursor={prospects('-created', prospects_n * 9 // 10)}",
        ),
        (
            "prospects, campaign + status + dr",
            f"/api/v1/prospects/?campaign={c}&status=contacted&dr_min=30",
        ),
        ("prospects, sorted by -dr", "/api/v1/prospects/?sort=-dr"),
        ("prospects, sorted by status", "/api/v1/prospects/?sort=status"),
        ("prospects, sorted by -quality", "/api/v1/prospects/?sort=-quality"),
        ("prospects, sorted by follow_up", "/api/v1/prospects/?sort=follow_up"),
        ("prospects, campaign, sorted -quality", f"/api/v1/prospects/?campaign={c}&sort=-quality"),
        ("prospects, search q=p123", "/api/v1/prospects/?q=p123"),
        (
            "prospects, sorted -dr, deep (20 %)",
            f"/api/v1/prospects/?sort=-dr&cursor={prospects('-dr', prospects_n // 5)}",
        ),
        ("backlinks, first page", "/api/v1/backlinks/"),
        (
            "backlinks, deep page (90 %)",
            f"/api/v1/backlinks/?cursor={backlinks('-won', links_n * 9 // 10)}",
        ),
        ("backlinks, campaign + state=lost", f"/api/v1/backlinks/?campaign={c}&state=lost"),
        ("backlinks, sorted by domain", "/api/v1/backlinks/?sort=domain"),
        ("backlinks, sorted by -checked", "/api/v1/backlinks/?sort=-checked"),
        (
            "backlinks, campaign + lost, -quality",
            f"/api/v1/backlinks/?campaign={c}&state=lost&sort=-quality",
        ),
        (
            "backlinks, sorted -quality, deep (20 %)",
            f"/api/v1/backlinks/?sort=-quality&cursor={backlinks('-quality', links_n // 5)}",
        ),
        ("alerts, first page", "/api/v1/alerts/"),
        (
            "alerts, deep page (90 %)",
            f"/api/v1/alerts/?cursor={deep(alerts, alerts.count() * 9 // 10)}",
        ),
        ("alerts, unread of a campaign", f"/api/v1/alerts/?campaign={c}&unread=1"),
    ]


def measure(requests: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from api import tokens
    from campaigns.models import Campaign, User

    settings.API_THROTTLE_RATE = ""  # the budget is not what is measured
    _, token = tokens.issue_token(User.objects.get(username="bench-manager"), name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    cpu = base.ServerCPU(connection)
    big = Campaign.objects.order_by("pk").first()
    over = []
    for label, url in pages(big):
        response = client.get(url)
        if response.status_code != 200:
            print(f"  {label:44} skipped: HTTP {response.status_code} {response.content[:200]!r}")
            continue
        rows = len(response.json()["results"])
        queries = base.QueryCounter()
        with connection.execute_wrapper(queries):
            client.get(url)
        timings, cpu_costs = [], []
        for _ in range(requests):
            cpu_before = cpu.now()
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu_after = cpu.now()
            if cpu_before is not None and cpu_after is not None:
                cpu_costs.append(cpu_after - cpu_before)
        timings.sort()
        p95 = timings[max(0, -(-len(timings) * 95 // 100) - 1)]
        cpu_ms = f"{statistics.median(cpu_costs):6.1f} ms" if cpu_costs else "   n/a"
        flag = f"  over {TARGET_P95_MS} ms" if p95 >= TARGET_P95_MS else ""
        if flag:
            over.append(label)
        print(
            f"  {label:44} {rows:3d} rows  median {statistics.median(timings):6.1f} ms  "
            f"p95 {p95:6.1f} ms  min {timings[0]:6.1f} ms  cpu {cpu_ms}  "
            f"{len(queries):2d} queries{flag}"
        )
    print(f"  {len(over)} of the pages over the {TARGET_P95_MS} ms p95 target: {over}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded bench database")
    parser.add_argument("--scale", type=int, default=1, help="times 50k prospects, 100k links")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave start-up objects to the collector"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL: run me under scripts/with-services.sh")
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "anchorage"
    name += "_bench_api" + (f"_x{args.scale}" if args.scale > 1 else "")
    url = urlunsplit(parts._replace(path=f"/{name}"))
    existed = base.recreate_database(url, reuse=args.reuse)
    base.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not existed:
        print(f"Seeding {urlsplit(url).path.lstrip('/')} ...")
        base.CHECKS_PER_BACKLINK = 1  # the lists read no checks
        base.scale(args.scale)
        base.seed()
    base.run_as_the_web_server(freeze=not args.no_freeze)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"Timing {args.requests} requests per page of {PAGE} rows (after one warm-up); "
        f"{os.cpu_count()} CPUs, load average {load}:"
    )
    measure(args.requests)


if __name__ == "__main__":
    main()
