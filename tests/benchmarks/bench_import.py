"""Import a generated 100,000-row prospect CSV into PostgreSQL; print rows/s and
peak memory.

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_import.py [ROWS]

Uses the DATABASE_URL database (a throwaway one under with-services.sh), after
migrating it. Targets on the 2-core machine: >= 5,000 rows/s and < 300 MB peak RSS (the
first round's; issue 17 asks 20,000 rows/s, which bench_import_export.py measures).
Measures, in this order: the preview (a dry run, as the browser shows before
confirming), the real import (one transaction, as the Celery task runs it), and
the same file again (every row already there: 0 new).
"""

from __future__ import annotations

import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("IMPORT_MAX_ROWS", "1000000")
os.environ.setdefault("IMPORT_MAX_BYTES", str(200 * 1024 * 1024))

TARGET_ROWS_PER_SECOND = 5000
TARGET_PEAK_MB = 300


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, rows: int) -> None:
    rng = random.Random(42)
    kinds = ["Blogger", "Guest post", "HARO", "Broken link", ""]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Website", "Contact Email", "Name", "DR", "Type", "Tags", "Notes"])
        for i in range(rows):
            kind = rng.choice(kinds)
            writer.writerow(
                [
                    f"https://www.site{i}.example/blog/post-{rng.randrange(10**6)}/",
                    f"editor{i}@site{i}.example",
                    f"Editor {i}",
                    rng.randrange(0, 101),
                    kind,
                    rng.choice(["", "running", "running, shoes", "trail; gear"]),
                    "Found via search" if i % 3 else "",
                ]
            )


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Run under scripts/with-services.sh: the benchmark is for PostgreSQL.")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    call_command("migrate", verbosity=0)

    from campaigns.models import Campaign, Role, User
    from outreach.imports import services
    from outreach.models import Prospect, StatusChange

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})
    # A new campaign each run: deleting a previous run's 100,000 prospects would
    # load them all (Django's cascade collector) and skew the memory figure.
    slug = f"bench-{int(time.time())}"
    campaign = Campaign.objects.create(slug=slug, name=slug, site="ours.example", owner=admin)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prospects.csv"
        generate(path, rows)
        size_mb = path.stat().st_size / (1024 * 1024)
        print(f"file: {rows:,} rows, {size_mb:.1f} MB; baseline peak RSS {peak_mb():.0f} MB")

        results = []
        runs = [("preview (dry run)", True), ("import", False), ("re-import", False)]
        for label, dry_run in runs:
            started, cpu = time.perf_counter(), time.process_time()
            summary = services.import_path(
                path, campaign=campaign, target="prospects", by=admin, dry_run=dry_run
            )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            rate = summary.rows / elapsed
            results.append((label, rate))
            print(
                f"{label:18} {elapsed:6.1f} s ({cpu:5.1f} s Python CPU)  {rate:8,.0f} rows/s  "
                f"peak RSS {peak_mb():4.0f} MB  ({summary.line()})"
            )

    count = Prospect.objects.filter(campaign=campaign).count()
    history = StatusChange.objects.filter(prospect__campaign=campaign).count()
    print(f"stored: {count:,} prospects, {history:,} status history rows")
    import_rate = dict(results)["import"]
    ok = import_rate >= TARGET_ROWS_PER_SECOND and peak_mb() < TARGET_PEAK_MB
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"target: >= {TARGET_ROWS_PER_SECOND:,} rows/s and < {TARGET_PEAK_MB} MB: "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
