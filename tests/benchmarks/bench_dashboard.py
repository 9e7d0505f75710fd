"""Benchmark the dashboard pages on a large PostgreSQL database. Prints figures,
asserts nothing; run on demand:

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_dashboard.py

It creates its own database next to DATABASE_URL's (``<name>_bench``, dropped
and re-created unless ``--reuse``), migrates it, seeds 50,000 prospects,
100,000 backlinks and 1,000,000 link checks with INSERT ... SELECT
generate_series (a minute or two, most of it the live_changed trigger
firing once per check), then times each page with Django's
test Client: one warm-up request, then ``--requests`` timed ones; it reports
the median, the 95th percentile (nearest rank) and the minimum of the server
time (on a shared machine the minimum is the closest to the page's own cost), the
median CPU time one request costs Django and PostgreSQL together (which,
unlike wall time, does not grow when other work shares the machine), and the
number of SQL queries of one request.

``--scale N`` seeds N times the rows into ``<name>_bench_xN`` (10: an agency's
500,000 prospects, 1,000,000 backlinks and 10,000,000 link checks); there the
link checks get their live_changed flag in the INSERT itself instead of from the
trigger (the same values: the seed knows each backlink's verdicts). ``--api``
also times the API lists (tests/benchmarks/bench_api.py's pages) on the same
data.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 250
CAMPAIGNS = 20
PROSPECTS = 50_000
BACKLINKS = 100_000
CHECKS_PER_BACKLINK = 10  # 1,000,000 link checks
# Set live_changed in the INSERT instead of by the trigger (--scale > 1).
FAST_CHECKS = False
# The first campaign is the big client: a quarter of every table, so its own
# dashboard is the heaviest single-campaign page.
BIG_SHARE = 4


def scale(factor: int) -> None:
    """Seed ``factor`` times the rows (``--scale``): 10 is an agency's 500,000
    prospects, 1,000,000 backlinks and 10,000,000 link checks."""
    global PROSPECTS, BACKLINKS, FAST_CHECKS, TARGET_P95_MS
    PROSPECTS, BACKLINKS = 50_000 * factor, 100_000 * factor
    FAST_CHECKS = factor > 1
    if factor > 1:
        TARGET_P95_MS = 100  # issue 17: every request at ten times the data


def bench_database_url(base: str, factor: int = 1) -> str:
    parts = urlsplit(base)
    name = (parts.path.lstrip("/") or "anchorage") + "_bench"
    if factor > 1:
        name += f"_x{factor}"
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(url: str, *, reuse: bool) -> bool:
    """Create the bench database; return True when it already existed (and is kept)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return False


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The test Client speaks plain HTTP to "testserver".
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="anchorage-bench-static-"))
    import django

    django.setup()


def insert_select(
    model: Any, columns: dict[str, str], from_sql: str, *, order_by: str | None = None
) -> int:
    """INSERT INTO model's table SELECT ... FROM from_sql [ORDER BY the expression
    given for column ``order_by``]. Columns not given get the model field's
    default, so a field added later by another migration does not break the seed."""
    from django.db import connection

    names, exprs, params = [], [], []
    position = None
    for field in model._meta.concrete_fields:
        if field.primary_key or field.generated:  # the database fills these
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column == order_by:
            position = len(names)
        if field.column in columns:
            # Literal SQL: its modulo signs must not read as placeholders.
            exprs.append(columns.pop(field.column).replace("%", "%%"))
        else:
            exprs.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    assert not columns, f"unknown columns for {model.__name__}: {sorted(columns)}"
    table, select, source = model._meta.db_table, ", ".join(exprs), from_sql.replace("%", "%%")
    sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {select} FROM {source}"  # noqa: S608
    if order_by:
        assert position, f"{order_by} is not a column of {model.__name__}"
        sql += f" ORDER BY {position}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def seed() -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.models import Campaign, Membership, Role, TargetPage, User
    from links.models import Alert, Backlink, LinkCheck
    from outreach.models import OutreachActivity, Prospect, StatusChange, Tag

    started = time.perf_counter()
    # Rows go in in time order, as a live system appends them, so that the
    # physical order of each table follows its dates as it would in production.
    with transaction.atomic():
        owner = User.objects.create(username="bench-manager", role=Role.MANAGER)
        members = User.objects.bulk_create(
            User(username=f"bench-member-{n:02d}", role=Role.MEMBER, password="!")
            for n in range(30)
        )
        today = timezone.localdate()
        campaigns = Campaign.objects.bulk_create(
            Campaign(
                name=f"Bench client {n:02d}",
                slug=f"bench-{n:02d}",
                site=f"client{n:02d}.example",
                owner=owner,
                goal_links=400 if n else 8000,
                goal_date=today.replace(year=today.year + 1),
            )
            for n in range(CAMPAIGNS)
        )
        Membership.objects.bulk_create(
            Membership(campaign=c, user=members[(c.pk + k) % len(members)])
            for c in campaigns
            for k in range(5)
        )
        for c in campaigns:
            for n, (title, keywords) in enumerate(
                [
                    ("Trail running shoes", "trail shoes, running shoes, trail"),
                    ("Shoe fit guide", "shoe fit, sizing"),
                    ("Marathon plan", "marathon plan, training plan"),
                    ("Road shoes", "road shoes"),
                    ("Pronation explained", "pronation, gait"),
                ]
            ):
                TargetPage.objects.create(
                    campaign=c, url=f"https://{c.site}/page-{n}/", title=title, keywords=keywords
                )
            Tag.objects.bulk_create(Tag(campaign=c, name=t) for t in ("tier-1", "tech", "local"))

        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.42)")
            # Which campaign row g belongs to: a quarter to the big one, the rest round-robin.
            cursor.execute(
                "CREATE TEMP TABLE bench_campaign AS SELECT "
                "row_number() OVER (ORDER BY id) - 1 AS idx, id, site FROM campaigns_campaign"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_target AS SELECT campaign_id, "
                "array_agg(id ORDER BY id) AS ids, array_agg(url ORDER BY id) AS urls, "
                "array_agg(url_key ORDER BY id) AS keys, "
                "array_agg(lower(title) ORDER BY id) AS titles, "
                "array_agg(lower(split_part(keywords, ',', 1)) ORDER BY id) AS keyword "
                "FROM campaigns_targetpage GROUP BY campaign_id"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_member AS SELECT array_agg(id ORDER BY id) AS ids "
                "FROM campaigns_user WHERE username LIKE 'bench-member-%'"
            )

        def campaign_of(g: str, total: int) -> str:
            return (
                f"CASE WHEN {g} <= {total // BIG_SHARE} THEN 0 ELSE 1 + {g} % {CAMPAIGNS - 1} END"
            )

        n = insert_select(
            Prospect,
            {
                "kind": "(ARRAY['blogger','guest_post','haro','broken_link'])[1 + g % 4]",
                "url": "'https://p' || g || '.bench.example/post/'",
                "url_key": "'p' || g || '.bench.example/post'",
                "domain": "'p' || g || '.bench.example'",
                "contact_name": "'Contact ' || g",
                "contact_email": "'editor@p' || g || '.bench.example'",
                "domain_rating": "(g * 37) % 101",
                # Scored, but not all of them yet: the sorts put nulls last.
                "quality": "CASE WHEN g % 10 = 0 THEN NULL ELSE (g * 53) % 101 END",
                "relevance": "CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 29) % 101 END",
                "niche": "'running'",
                "status": (
                    "CASE WHEN r < .20 THEN 'new' WHEN r < .35 THEN 'qualified' "
                    "WHEN r < .55 THEN 'contacted' WHEN r < .67 THEN 'followed_up' "
                    "WHEN r < .74 THEN 'replied' WHEN r < .79 THEN 'negotiating' "
                    "WHEN r < .89 THEN 'won' WHEN r < .95 THEN 'lost' ELSE 'unresponsive' END"
                ),
                "next_follow_up": "CASE WHEN g % 5 = 0 THEN current_date + (g % 15 - 7) END",
                "outlet": "CASE WHEN g % 4 = 2 THEN 'Outlet ' || g % 30 ELSE '' END",
                "query_text": "CASE WHEN g % 4 = 2 THEN 'Looking for experts' ELSE '' END",
                "deadline": (
                    "CASE WHEN g % 4 = 2 THEN now() + (g % 200 - 50) * interval '1 hour' END"
                ),
                "dead_url": (
                    "CASE WHEN g % 4 = 3 THEN 'https://gone' || g || '.example/' ELSE '' END"
                ),
                "offered_target_id": "CASE WHEN g % 4 = 3 THEN t.ids[1] END",
                "fee": "CASE WHEN g % 4 = 1 THEN (g % 6) * 50 END",
                "created_at": "now() - r2 * interval '365 days'",
                "updated_at": "now()",
                "assignee_id": "m.ids[1 + g % array_length(m.ids, 1)]",
                "campaign_id": "c.id",
            },
            f"(SELECT g, random() AS r, random() AS r2 FROM generate_series(1, {PROSPECTS}) g) s "  # noqa: S608
            f"JOIN bench_campaign c ON c.idx = {campaign_of('g', PROSPECTS)} "
            "JOIN bench_target t ON t.campaign_id = c.id CROSS JOIN bench_member m",
            order_by="created_at",
        )
        print(f"  prospects: {n:,}")

        paths = (
            "(VALUES ('new', ARRAY['new']), ('qualified', ARRAY['new','qualified']), "
            "('contacted', ARRAY['new','qualified','contacted']), "
            "('followed_up', ARRAY['new','qualified','contacted','followed_up']), "
            "('replied', ARRAY['new','qualified','contacted','followed_up','replied']), "
            "('negotiating', ARRAY['new','qualified','contacted','followed_up','replied',"
            "'negotiating']), "
            "('won', ARRAY['new','qualified','contacted','followed_up','replied','negotiating',"
            "'won']), "
            "('lost', ARRAY['new','qualified','contacted','followed_up','lost']), "
            "('unresponsive', ARRAY['new','qualified','contacted','unresponsive'])"
            ") AS paths(status, path)"
        )
        n = insert_select(
            StatusChange,
            {
                "from_status": "COALESCE(paths.path[i - 1], '')",
                "to_status": "paths.path[i]",
                "changed_at": (
                    "p.created_at + (now() - p.created_at) * (i - 1) / array_length(paths.path, 1)"
                ),
                "changed_by_id": "p.assignee_id",
                "prospect_id": "p.id",
            },
            f"outreach_prospect p JOIN {paths} ON paths.status = p.status "
            "CROSS JOIN LATERAL generate_subscripts(paths.path, 1) AS i",
            order_by="changed_at",
        )
        print(f"  status changes: {n:,}")
        n = insert_select(
            OutreachActivity,
            {
                "kind": (
                    "CASE sc.to_status WHEN 'contacted' THEN 'email_sent' "
                    "WHEN 'followed_up' THEN 'follow_up' WHEN 'replied' THEN 'reply' "
                    "ELSE 'call' END"
                ),
                "occurred_at": "sc.changed_at",
                "summary": "'Bench activity'",
                "user_id": "sc.changed_by_id",
                "prospect_id": "sc.prospect_id",
            },
            "outreach_statuschange sc WHERE sc.to_status IN "
            "('contacted', 'followed_up', 'replied', 'negotiating')",
            order_by="occurred_at",
        )
        print(f"  activities: {n:,}")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO outreach_prospect_tags (prospect_id, tag_id) "
                "SELECT p.id, min(t.id) FROM outreach_prospect p "
                "JOIN outreach_tag t ON t.campaign_id = p.campaign_id "
                "WHERE p.id % 3 = 0 GROUP BY p.id"
            )

        n = insert_select(
            Backlink,
            {
                "source_url": "'https://ref' || g % 40000 || '.example/a' || g || '/'",
                "source_url_key": "'ref' || g % 40000 || '.example/a' || g",
                "source_domain": "'ref' || g % 40000 || '.example'",
                "target_url": "t.urls[1 + g % 5]",
                "target_url_key": "t.keys[1 + g % 5]",
                "expected_anchor_text": (
                    "CASE g % 10 WHEN 0 THEN initcap(t.titles[1 + g % 5]) "
                    "WHEN 1 THEN t.keyword[1 + g % 5] WHEN 2 THEN 'Client ' || c.idx "
                    "WHEN 3 THEN 'here' WHEN 4 THEN c.site ELSE 'useful resource ' || g % 40 END"
                ),
                "expected_dofollow": "g % 10 <> 7",
                "won_on": "current_date - (r * 365)::int",
                "cost": "CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 5) * 40 END",
                "quality": "CASE WHEN g % 10 = 0 THEN NULL ELSE (g * 53) % 101 END",
                "next_check_at": "now() + (g % 168) * interval '1 hour'",
                "created_at": "now()",
                "campaign_id": "c.id",
                "target_page_id": "t.ids[1 + g % 5]",
                "won_by_id": "m.ids[1 + g % array_length(m.ids, 1)]",
            },
            f"(SELECT g, random() AS r FROM generate_series(1, {BACKLINKS}) g) s "  # noqa: S608
            f"JOIN bench_campaign c ON c.idx = {campaign_of('g', BACKLINKS)} "
            "JOIN bench_target t ON t.campaign_id = c.id CROSS JOIN bench_member m",
            order_by="won_on",
        )
        print(f"  backlinks: {n:,}")
        # Each backlink has a fate, from its id: most stay live; every 20th is
        # lost, turns nofollow, is lost then recovered, or ends on an error.
        # Ten checks per backlink, spread from the day it was won to now.
        at = (
            "(b.won_on + interval '6 hours') + "
            f"(now() - (b.won_on + interval '6 hours')) * k / {CHECKS_PER_BACKLINK}"
        )
        with connection.cursor() as cursor:
            # The verdict of check k of backlink i (null before the first), as a
            # function, so that live_changed can be computed from it below.
            cursor.execute(
                "CREATE FUNCTION pg_temp.bench_verdict(i bigint, k int) RETURNS text "
                "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN k < 0 THEN NULL "
                "WHEN i % 20 = 0 AND k >= 8 THEN 'missing' "
                "WHEN i % 20 = 1 AND k >= 7 THEN 'nofollow' "
                "WHEN i % 20 = 2 AND k IN (4, 5) THEN 'missing' "
                "WHEN i % 20 = 3 AND k = 9 THEN 'error' "
                "WHEN i % 97 = k THEN 'error' ELSE 'live' END $$"
            )
        columns = {
            "checked_at": at,
            "verdict": "pg_temp.bench_verdict(b.id, k)",
            "http_status": "200",
            "final_url": "b.source_url",
            "duration_ms": "100 + k * 37",
            "bytes_read": "20000 + k * 1000",
            "backlink_id": "b.id",
        }
        if FAST_CHECKS:
            # The live_changed trigger fires once per row (most of a 10M-row
            # seed's time): set the flag as it would, in the same statement.
            # Error checks prove nothing, so the check compared with is the last
            # non-error one of the (at most two) before.
            prev = (
                "CASE WHEN pg_temp.bench_verdict(b.id, k - 1) <> 'error' "
                "THEN pg_temp.bench_verdict(b.id, k - 1) "
                "WHEN pg_temp.bench_verdict(b.id, k - 2) <> 'error' "
                "THEN pg_temp.bench_verdict(b.id, k - 2) "
                "ELSE pg_temp.bench_verdict(b.id, k - 3) END"
            )
            columns["live_changed"] = (
                "pg_temp.bench_verdict(b.id, k) <> 'error' AND "
                f"(pg_temp.bench_verdict(b.id, k) = 'live') <> COALESCE(({prev}) = 'live', false)"
            )
            with connection.cursor() as cursor:
                # No trigger fires for this session's rows (the seed is
                # consistent, so skipping the FK checks loses nothing either).
                # Needs a superuser, as scripts/with-services.sh's role is.
                cursor.execute("SET LOCAL session_replication_role = replica")
        n = insert_select(
            LinkCheck,
            columns,
            f"links_backlink b CROSS JOIN generate_series(0, {CHECKS_PER_BACKLINK - 1}) k",
            order_by="checked_at",
        )
        if FAST_CHECKS:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")
        print(f"  link checks: {n:,}")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE links_backlink SET "
                "state = CASE id % 20 WHEN 0 THEN 'lost' WHEN 1 THEN 'nofollow' "
                "WHEN 3 THEN 'error' ELSE 'live' END, "
                "last_verdict = CASE id % 20 WHEN 0 THEN 'missing' WHEN 1 THEN 'nofollow' "
                "WHEN 3 THEN 'error' ELSE 'live' END, "
                "lost_at = CASE WHEN id % 20 = 0 THEN now() END, "
                "first_seen_at = won_on + interval '6 hours', last_checked_at = now()"
            )
        n = insert_select(
            Alert,
            {
                "kind": "a.kind",
                "message": "a.kind || ': ' || b.source_url",
                "created_at": (
                    "(b.won_on + interval '6 hours') + "
                    f"(now() - (b.won_on + interval '6 hours')) * a.k / {CHECKS_PER_BACKLINK}"
                ),
                "campaign_id": "b.campaign_id",
                "backlink_id": "b.id",
            },
            "links_backlink b JOIN (VALUES (0, 'lost', 9), (1, 'nofollow', 7), "
            "(2, 'lost', 5), (2, 'recovered', 6)) AS a(fate, kind, k) ON a.fate = b.id % 20",
            order_by="created_at",
        )
        print(f"  alerts: {n:,}")
    from config import tallies

    if FAST_CHECKS:
        # Its checks came in with every trigger off, the chart's count too.
        tallies.LIVE_CHECKS.rebuild()
    # What beat's compaction does every five minutes on a live site.
    tallies.compact_all()
    with connection.cursor() as cursor:
        # A live database is vacuumed by autovacuum; without this the timings
        # would race it, and index-only scans would visit the heap.
        cursor.execute("VACUUM ANALYZE")
    print(f"  seeded in {time.perf_counter() - started:.1f} s")


def measure(requests: int, *, slowest: int = 0) -> list[tuple[str, float, float, int]]:
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve
    from django.utils import timezone

    from campaigns.models import Campaign, User

    client = Client()
    cpu = ServerCPU(connection)
    client.force_login(User.objects.get(username="bench-manager"))
    big = Campaign.objects.order_by("pk").first()
    small = Campaign.objects.order_by("pk").last()
    year_ago = timezone.localdate().replace(year=timezone.localdate().year - 1)
    pages = [
        ("campaign list", "/campaigns/?status=all"),
        ("campaign detail (big)", f"/campaigns/{big.slug}/"),
        ("campaign dashboard (big)", f"/campaigns/{big.slug}/dashboard/"),
        ("campaign dashboard (small)", f"/campaigns/{small.slug}/dashboard/"),
        (
            "campaign dashboard (big, 1 year)",
            f"/campaigns/{big.slug}/dashboard/?start={year_ago}",
        ),
        ("all-campaigns dashboard", "/dashboard/"),
        ("all-campaigns dashboard (1 year)", f"/dashboard/?start={year_ago}"),
        ("prospects list (big)", f"/campaigns/{big.slug}/prospects/"),
        ("backlinks list (big)", f"/campaigns/{big.slug}/backlinks/"),
        # Downloads, not pages: for information, no target.
        (
            f"prospects export (big, {PROSPECTS // BIG_SHARE:,})",
            f"/campaigns/{big.slug}/prospects/export.csv",
        ),
        (
            f"backlinks export (big, {BACKLINKS // BIG_SHARE:,})",
            f"/campaigns/{big.slug}/backlinks/export.csv",
        ),
    ]
    results = []

    def timed(label: str, url: str, **headers: str) -> tuple[float, float] | None:
        response = client.get(url, **headers)  # warm-up: caches, plans, buffer pages
        if response.status_code != 200:
            print(f"  {label:34} skipped: HTTP {response.status_code}")
            return None
        consume(response)
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            consume(client.get(url, **headers))
        timings, cpu_costs = [], []
        for _ in range(requests):
            cpu_before = cpu.now()
            started = time.perf_counter()
            consume(client.get(url, **headers))
            timings.append((time.perf_counter() - started) * 1000)
            cpu_after = cpu.now()
            if cpu_before is not None and cpu_after is not None:
                cpu_costs.append(cpu_after - cpu_before)
        timings.sort()
        p95 = timings[max(0, -(-len(timings) * 95 // 100) - 1)]
        median = statistics.median(timings)
        cpu_ms = f"{statistics.median(cpu_costs):7.1f} ms" if cpu_costs else "    n/a"
        results.append((label, median, p95, len(queries)))
        flag = ""
        if p95 >= TARGET_P95_MS and "export" not in label:
            flag = f"  over the {TARGET_P95_MS} ms target"
        print(
            f"  {label:34} median {median:7.1f} ms   "
            f"p95 {p95:7.1f} ms   min {timings[0]:7.1f} ms   cpu {cpu_ms}   "
            f"{len(queries):3d} queries{flag}"
        )
        for took, sql in queries.slowest(slowest):
            print(f"      {took:7.1f} ms  {' '.join(sql.split())[:150]}")
        return median, p95

    for label, url in pages:
        try:
            resolve(url.split("?")[0])
        except Resolver404:
            print(f"  {label:34} skipped: {url} is not in this branch's URLconf")
            continue
        if timed(label, url) is None or "dashboard" not in label:
            continue
        # The dashboard page only places its charts; the browser then asks for
        # each (htmx, on load). Each chart request is timed like a page.
        html = client.get(url).content.decode()
        chart_urls = re.findall(r'class="panel-body"[^>]* hx-get="([^"]+)"', html)
        medians = []
        for chart_url in chart_urls:
            chart_url = chart_url.replace("&amp;", "&")
            name = chart_url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            measured = timed(f"  · chart {name}", chart_url, HTTP_HX_REQUEST="true")
            if measured is not None:
                medians.append(measured[0])
        print(
            f"  {'  = all charts, one after another':34} median {sum(medians):7.1f} ms "
            "(the server time of the whole dashboard if nothing ran in parallel)"
        )
    return results


class ServerCPU:
    """CPU milliseconds spent by this process (Django) plus the PostgreSQL server
    (the postmaster's children, and those that exited, such as parallel workers).
    Unlike wall time it does not grow when other work shares the machine. Needs
    the server on this machine and /proc (Linux); otherwise None."""

    def __init__(self, connection: Any) -> None:
        self.postmaster: int | None = None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            self.postmaster = int(self._stat(backend)[1])
            self.tick = 1000 / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            self.postmaster = None

    @staticmethod
    def _stat(pid: int) -> list[str]:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    def _server(self) -> float:
        fields = self._stat(self.postmaster)
        # utime, stime, and the same for children already waited for.
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))
        tasks = f"/proc/{self.postmaster}/task/{self.postmaster}/children"
        with open(tasks) as handle:
            children = handle.read().split()
        for pid in children:
            try:
                child = self._stat(int(pid))
            except OSError:  # exited meanwhile: now counted in the postmaster's
                continue
            total += int(child[11]) + int(child[12])
        return total * self.tick

    def now(self) -> float | None:
        if self.postmaster is None:
            return None
        server = self._server()
        return server + time.process_time() * 1000


class QueryCounter:
    """A database execute wrapper that counts the queries of one request and
    times each."""

    def __init__(self) -> None:
        self.timings: list[tuple[float, str]] = []

    def __call__(self, execute: Any, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, *args)
        finally:
            self.timings.append(((time.perf_counter() - started) * 1000, sql))

    def __len__(self) -> int:
        return len(self.timings)

    def slowest(self, n: int) -> list[tuple[float, str]]:
        return sorted(self.timings, reverse=True)[:n]


def consume(response: Any) -> None:
    if response.streaming:
        for _ in response.streaming_content:
            pass


def run_as_the_web_server(*, freeze: bool) -> None:
    """Time requests in the state a web process serves them in: config/wsgi.py
    freezes start-up objects, the views included, out of the collector's sight."""
    from config.startup import freeze_startup_objects

    if freeze:
        freeze_startup_objects(load_urlconf=True)
    print("start-up objects " + ("frozen, as config/wsgi.py does" if freeze else "not frozen"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15, help="timed requests per page")
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded bench database"
    )
    parser.add_argument(
        "--slowest", type=int, default=0, metavar="N", help="print each page's N slowest queries"
    )
    parser.add_argument(
        "--scale", type=int, default=1, help="times the rows (10: 500k prospects, 1M backlinks)"
    )
    parser.add_argument(
        "--api", action="store_true", help="also time the API lists (bench_api.py's pages)"
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave start-up objects to the garbage collector (before config/wsgi.py froze them)",
    )
    args = parser.parse_args()
    scale(args.scale)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL: run me under scripts/with-services.sh")
    url = bench_database_url(base, args.scale)
    existed = recreate_database(url, reuse=args.reuse)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not existed:
        print(f"Seeding {urlsplit(url).path.lstrip('/')} ...")
        seed()
    run_as_the_web_server(freeze=not args.no_freeze)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"Timing {args.requests} requests per page (after one warm-up); "
        f"{os.cpu_count()} CPUs, load average {load}:"
    )
    measure(args.requests, slowest=args.slowest)
    if args.api:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_api

        print("API lists, pages of 100 rows, as a manager with a token:")
        bench_api.measure(args.requests)


if __name__ == "__main__":
    main()
