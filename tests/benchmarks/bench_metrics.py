"""What does one /metrics scrape cost with 20,000 backlinks and 500,000 link checks?

Run with `make bench` (or `scripts/with-services.sh .venv/bin/python
tests/benchmarks/bench_metrics.py`). Prints the queries per scrape, the median
scrape time, and the plan of each query, to show the index ranges at work.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from prometheus_client import generate_latest  # noqa: E402

from config.metrics import REGISTRY  # noqa: E402
from links.models import Backlink, LinkCheck  # noqa: E402
from tests.factories import CampaignFactory, LinkCheckFactory  # noqa: E402

BACKLINKS = 20_000
CHECKS = 500_000  # one every 5 seconds: about 29 days of history


def seed() -> None:
    campaign = CampaignFactory(slug="bench-metrics")
    now = timezone.now()
    states = ["live", "live", "live", "lost", "pending", "error"]
    Backlink.objects.bulk_create(
        [
            Backlink(
                campaign=campaign,
                source_url=f"https://s{n}.example/",
                source_url_key=f"s{n}.example",
                source_domain=f"s{n}.example",
                target_url="https://ours.example/",
                target_url_key="ours.example",
                state=states[n % 6],
                lost_at=now if states[n % 6] == "lost" else None,
                # A tenth of them due, the oldest 100 minutes ago.
                next_check_at=now + timedelta(minutes=n % 1000 - 100),
            )
            for n in range(BACKLINKS)
        ],
        batch_size=2000,
    )
    template = LinkCheckFactory(backlink=Backlink.objects.filter(campaign=campaign).first())
    columns = [f.column for f in LinkCheck._meta.concrete_fields if f.column != "id"]
    computed = {
        "backlink_id": f"(SELECT min(id) FROM links_backlink) + mod(g, {BACKLINKS})",  # noqa: S608
        "checked_at": "now() - g * interval '5 seconds'",
        "verdict": "(ARRAY['live','missing','error','nofollow'])[1 + mod(g, 4)]",
    }
    select = ", ".join(computed.get(column, f"t.{column}") for column in columns)
    with connection.cursor() as cursor:
        # The live_changed trigger is not what is measured here.
        cursor.execute("ALTER TABLE links_linkcheck DISABLE TRIGGER USER")
        # Column names come from the model and the rest are constants of this file.
        cursor.execute(
            f"INSERT INTO links_linkcheck ({', '.join(columns)}) SELECT {select} "  # noqa: S608
            f"FROM generate_series(1, {CHECKS}) g, links_linkcheck t WHERE t.id = %s",
            [template.pk],
        )
        cursor.execute("ALTER TABLE links_linkcheck ENABLE TRIGGER USER")
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    call_command("migrate", verbosity=0)
    if not Backlink.objects.filter(campaign__slug="bench-metrics").exists():
        seed()
    generate_latest(REGISTRY)  # warm up: connections, plans
    times = []
    for _ in range(21):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            generate_latest(REGISTRY)
            times.append(time.perf_counter() - started)
    print(
        f"{len(queries.captured_queries)} queries per scrape, "
        f"median {statistics.median(times) * 1000:.1f} ms over {len(times)} scrapes"
    )
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + query["sql"])
            print("--", query["sql"][:100])
            for (line,) in cursor.fetchall():
                print("  ", line)


if __name__ == "__main__":
    main()
