"""How fast is the prospects table on a 50,000-prospect campaign in PostgreSQL?

Run with `make bench` (or `scripts/with-services.sh .venv/bin/python
tests/benchmarks/bench_prospect_filters.py`). Creates the rows once (about a
minute), then times what one page view of the table costs for several filter
sets: the COUNT for the paginator plus the 50 rows with their display extras, and
prints the plan of a search so the trigram indexes can be seen at work.
"""

from __future__ import annotations

import os
import random
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
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import Campaign, Membership, User  # noqa: E402
from outreach import queries  # noqa: E402
from outreach.models import Kind, Prospect, Status, StatusChange, Tag  # noqa: E402

ROWS = int(os.environ.get("BENCH_PROSPECTS", "50000"))
SLUG = "bench-prospects"
WORDS = [
    "trail",
    "runner",
    "marathon",
    "stride",
    "pace",
    "sprint",
    "fitness",
    "outdoor",
    "coach",
    "gear",
    "review",
]


def seed() -> Campaign:
    if connection.vendor != "postgresql":
        sys.exit("This benchmark is about PostgreSQL: run it under scripts/with-services.sh.")
    call_command("migrate", verbosity=0)
    campaign = Campaign.objects.filter(slug=SLUG).first()
    if campaign and campaign.prospects.count() >= ROWS:
        return campaign
    rng = random.Random(7)
    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"role": "manager"})
    campaign = campaign or Campaign.objects.create(
        name="Bench", slug=SLUG, site="bench.example", owner=owner
    )
    people = []
    for n in range(5):
        user, _ = User.objects.get_or_create(username=f"bench-{n}")
        Membership.objects.get_or_create(campaign=campaign, user=user)
        people.append(user)
    tags = [Tag.objects.get_or_create(campaign=campaign, name=f"t{n}")[0] for n in range(5)]
    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    batch: list[Prospect] = []
    for i in range(ROWS):
        kind = [Kind.BLOGGER, Kind.GUEST_POST, Kind.HARO, Kind.BROKEN_LINK][i % 4]
        prospect = Prospect(
            campaign=campaign,
            kind=kind,
            status=rng.choice(Status.values),
            url=f"https://{rng.choice(WORDS)}-{rng.choice(WORDS)}{i}.example/{rng.choice(WORDS)}/",
            contact_name=f"{rng.choice(['Sam', 'Jo', 'Kim', 'Lee'])} {rng.choice(WORDS).title()}",
            contact_email=f"editor{i}@mail{i % 997}.example",
            domain_rating=rng.choice([None, *range(101)]),
            assignee=rng.choice([None, *people]),
            next_follow_up=today + timedelta(days=rng.randint(-10, 10)) if i % 3 else None,
            notes=rng.choice(["", "", "Prefers short pitches", f"Met at conference {i}"]),
            created_at=now - timedelta(minutes=i),
        )
        prospect.set_url(prospect.url)
        batch.append(prospect)
        if len(batch) == 5000:
            Prospect.objects.bulk_create(batch)
            batch = []
    Prospect.objects.bulk_create(batch)
    ids = list(campaign.prospects.values_list("pk", flat=True))
    StatusChange.objects.bulk_create(
        (StatusChange(prospect_id=pk, from_status="", to_status="new") for pk in ids),
        batch_size=5000,
    )
    Through = Prospect.tags.through
    Through.objects.bulk_create(
        (Through(prospect_id=pk, tag_id=tags[pk % 5].pk) for pk in ids if pk % 4 == 0),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {ROWS:,} prospects in {time.perf_counter() - started:.1f} s")
    return campaign


def page_view(campaign: Campaign, query: str, page: int = 1) -> int:
    """What the view does: count, then one page of rows with tags prefetched."""
    prospects = queries.for_table(queries.filter_prospects(campaign, QueryDict(query)))
    rows = Paginator(prospects, queries.PAGE_SIZE).get_page(page)
    return len(list(rows.object_list)) + rows.paginator.count * 0


def timed(campaign: Campaign, query: str, page: int = 1, repeat: int = 7) -> tuple[float, int]:
    page_view(campaign, query, page)  # warm the cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        page_view(campaign, query, page)
        times.append((time.perf_counter() - started) * 1000)
    count = queries.filter_prospects(campaign, QueryDict(query)).count()
    return statistics.median(times), count


def main() -> None:
    campaign = seed()
    member = campaign.members.order_by("username").first()
    tag = campaign.tags.order_by("name").first()
    cases = [
        ("no filter, newest first", "", 1),
        ("no filter, page 500", "", 500),
        ("search 'conference 4217'", "q=conference+4217", 1),
        ("search 'marathon' (many hits)", "q=marathon", 1),
        ("search email 'mail99.'", "q=mail99.", 1),
        ("kind + status + DR range", "kind=haro&status=open&dr_min=40&dr_max=70", 1),
        ("assignee + follow-up due", f"assignee={member.pk}&follow_up=due", 1),
        ("tag, sorted by DR", f"tag={tag.pk}&sort=-dr", 1),
        ("sorted by status", "sort=status", 1),
    ]
    print(f"\nprospects table on {ROWS:,} rows (median of 7, count + page of 50):")
    for label, query, page in cases:
        ms, count = timed(campaign, query, page)
        print(f"  {label:<34} {ms:8.1f} ms   {count:>6,} matching")
    sql, params = queries.filter_prospects(
        campaign, QueryDict("q=conference 4217")
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
        plan = "\n    ".join(row[0] for row in cursor.fetchall())
    print(f"\nplan of the search:\n    {plan}")


if __name__ == "__main__":
    main()
