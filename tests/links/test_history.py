"""Folding old unchanged checks (links.history): the history page, the API, the
live-over-time chart and the lost/recovered counts answer what they answered
before folding, on a seeded history whose answers are built by hand.

Backlink A is checked daily at noon from Monday 6 January 2025 (day 0) to day
27: live with anchor "our guide" (days 0-9, the page changed on day 3), missing
(10-13), live (14-20), an error (21), live (22-24), live with another anchor
text (25-27). Backlink B is found live the same way every day. With the last
two checks kept and weekly summaries, A keeps its first check, the changed
ones (3, 10, 14, 21, 22, 25) and days 26-27: 9 rows and 6 summaries of 19.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from campaigns.dashboard import charts
from campaigns.dashboard.charts import Period
from campaigns.models import Campaign
from links import history, services
from links.models import Alert, CheckSummary, LinkCheck, Verdict
from links.outcome import CheckOutcome
from tests.factories import AlertFactory, BacklinkFactory, LinkCheckFactory

START = datetime(2025, 1, 6, 12, tzinfo=UTC)
PERIOD = Period(start=date(2025, 1, 6), end=date(2025, 2, 2))
LATER = datetime(2025, 6, 1, tzinfo=UTC)  # every seeded check is older than 30 days


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def anchor(text: str) -> list[dict]:
    return [
        {"href": "https://site.example/", "text": text, "rel": "", "dofollow": True,
         "placement": "content", "kind": "text"}
    ]  # fmt: skip


GUIDE, OTHER = anchor("our guide"), anchor("the guide")


def seed_a(backlink) -> None:
    for n in range(28):
        fields: dict = {"verdict": Verdict.LIVE, "anchors": GUIDE}
        if 10 <= n <= 13:
            fields = {"verdict": Verdict.MISSING}
        elif n == 21:
            fields = {"verdict": Verdict.ERROR, "http_status": None, "error": "timed out"}
        elif n >= 25:
            fields["anchors"] = OTHER
        if n == 3:
            fields["snippet"] = "<p>the page changed</p>"
        LinkCheckFactory(backlink=backlink, checked_at=day(n), **fields)


@pytest.fixture
def seeded(campaign):
    a = BacklinkFactory(campaign=campaign)
    b = BacklinkFactory(campaign=campaign)
    seed_a(a)
    for n in range(28):
        LinkCheckFactory(backlink=b, checked_at=day(n), anchors=GUIDE)
    # The alerts the verifier raised for A (lost on day 11, back on day 14).
    AlertFactory(campaign=campaign, backlink=a, kind=Alert.Kind.LOST, created_at=day(11))
    AlertFactory(campaign=campaign, backlink=a, kind=Alert.Kind.RECOVERED, created_at=day(14))
    return a, b


def fold() -> history.FoldResult:
    return history.fold_all(now=LATER, keep_last=2, after_days=30, period="week")


def run_shape(backlink) -> list[tuple[str, int, int, int]]:
    """(verdict, first day, last day, count) of each run."""
    return [
        (r.verdict, (r.first_checked_at - START).days, (r.last_checked_at - START).days, r.count)
        for r in history.runs(backlink)
    ]


A_RUNS = [
    ("live", 0, 9, 10),
    ("missing", 10, 13, 4),
    ("live", 14, 20, 7),
    ("error", 21, 21, 1),
    ("live", 22, 24, 3),
    ("live", 25, 27, 3),
]


def dashboard(campaign) -> tuple[list, list, list]:
    only = Campaign.objects.filter(pk=campaign.pk)
    live = charts.live_backlinks_over_time(only, PERIOD)
    lost = charts.lost_and_recovered_per_week(only, PERIOD)
    by_key = {s.key: s.values for s in lost.series}
    return live.series[0].values, by_key["lost"], by_key["recovered"]


def page_entries(client, campaign, backlink, page: int = 1) -> list[tuple]:
    response = client.get(
        reverse("links:backlink_detail", args=[campaign.slug, backlink.pk]), {"page": page}
    )
    assert response.status_code == 200
    return [
        ("summary", (e.first_checked_at - START).days, (e.last_checked_at - START).days, e.count)
        if e.is_folded
        else ("check", (e.checked_at - START).days, e.verdict)
        for e in response.context["checks"].object_list
    ], response


def test_folding_keeps_the_changes_and_the_last_checks(seeded):
    a, b = seeded

    result = fold()

    kept_days = sorted((c.checked_at - START).days for c in a.checks.all())
    assert kept_days == [0, 3, 10, 14, 21, 22, 25, 26, 27]
    summaries = sorted(
        ((s.first_checked_at - START).days, (s.last_checked_at - START).days, s.count)
        for s in a.check_summaries.all()
    )
    assert summaries == [(1, 2, 2), (4, 6, 3), (7, 9, 3), (11, 13, 3), (15, 20, 6), (23, 24, 2)]
    # B: its first check, its last two, and one summary per week in between
    # (days 1-6, 7-13, 14-20, 21-25).
    assert sorted((c.checked_at - START).days for c in b.checks.all()) == [0, 26, 27]
    assert [s.count for s in b.check_summaries.order_by("first_checked_at")] == [6, 7, 7, 5]
    assert (result.folded, result.summaries) == (19 + 25, 6 + 4)
    # A second pass finds nothing more to fold.
    assert fold().folded == 0


def test_history_runs_and_counts_are_the_same_after_folding(seeded):
    a, b = seeded
    assert run_shape(a) == A_RUNS
    assert history.check_count(a) == 28
    assert run_shape(b) == [("live", 0, 27, 28)]

    fold()

    assert run_shape(a) == A_RUNS
    assert history.check_count(a) == 28
    assert run_shape(b) == [("live", 0, 27, 28)]


def test_history_page_shows_summaries_in_place_of_folded_checks(signed_in, campaign, seeded):
    a, _ = seeded
    before, response = page_entries(signed_in, campaign, a)
    assert [e[1] for e in before] == list(range(27, 7, -1))  # 20 a page, newest first
    assert "28 checks" in response.content.decode()

    fold()

    after, response = page_entries(signed_in, campaign, a)
    assert after == [
        ("check", 27, "live"),
        ("check", 26, "live"),
        ("check", 25, "live"),
        ("summary", 23, 24, 2),
        ("check", 22, "live"),
        ("check", 21, "error"),
        ("summary", 15, 20, 6),
        ("check", 14, "live"),
        ("summary", 11, 13, 3),
        ("check", 10, "missing"),
        ("summary", 7, 9, 3),
        ("summary", 4, 6, 3),
        ("check", 3, "live"),
        ("summary", 1, 2, 2),
        ("check", 0, "live"),
    ]
    content = response.content.decode()
    assert "28 checks" in content
    assert "6 more checks that found the same" in content
    assert "the page changed" in content  # the kept snippet


def test_dashboard_charts_are_the_same_after_folding(campaign, seeded):
    # Live at the end of each week: A (live, missing, live, live) plus B.
    expected = ([2, 1, 2, 2], [0, 1, 0, 0], [0, 0, 1, 0])
    assert dashboard(campaign) == expected

    fold()

    assert dashboard(campaign) == expected


def test_api_detail_lists_kept_and_folded_checks(signed_in, campaign, seeded):
    a, _ = seeded
    fold()

    body = signed_in.get(f"/api/v1/backlinks/{a.pk}/").json()

    assert len(body["checks"]) == 9
    assert [f["count"] for f in body["folded_checks"]] == [2, 6, 3, 3, 3, 2]
    assert body["folded_checks"][1]["first_checked_at"].startswith("2025-01-21")
    assert {f["period_kind"] for f in body["folded_checks"]} == {"week"}


@pytest.mark.parametrize(("period", "summaries"), [("day", 0), ("month", 1)])
def test_the_period_sets_how_much_one_summary_holds(db, period, summaries):
    backlink = BacklinkFactory()
    for n in range(10):
        LinkCheckFactory(backlink=backlink, checked_at=day(n), anchors=GUIDE)

    result = history.fold_all(now=LATER, keep_last=1, after_days=30, period=period)

    # A summary of one check saves nothing: daily checks in daily periods stay.
    assert CheckSummary.objects.filter(backlink=backlink).count() == summaries
    assert result.folded == (0 if period == "day" else 8)
    assert history.check_count(backlink) == 10


def test_recent_checks_are_not_folded(db):
    backlink = BacklinkFactory()
    for n in range(10):
        LinkCheckFactory(backlink=backlink, checked_at=day(n), anchors=GUIDE)

    history.fold_all(now=day(10), keep_last=1, after_days=5, period="month")

    assert sorted((c.checked_at - START).days for c in backlink.checks.all()) == [0, 5, 6, 7, 8, 9]


def test_folding_alongside_the_checkers_loses_nothing(transactional_db):
    """A checker records 40 daily checks of five backlinks (live, missing 20-24,
    live again) through record_checks while another connection folds them."""
    backlinks = [BacklinkFactory() for _ in range(5)]
    ids = [b.pk for b in backlinks]
    done = threading.Event()
    errors: list[BaseException] = []

    def outcome(n: int) -> CheckOutcome:
        if 20 <= n <= 24:
            return CheckOutcome(verdict="missing", http_status=200, page_hash="p2")
        return CheckOutcome(
            verdict="live", http_status=200, anchors=GUIDE, page_hash="p1", snippet="<a>"
        )

    def checker() -> None:
        try:
            for n in range(40):
                services.record_checks([(pk, outcome(n)) for pk in ids], now=day(n))
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            connection.close()

    def folder() -> None:
        try:
            # At least one pass, even if the checker is done first.
            while True:
                checker_done = done.is_set()
                history.fold_all(now=LATER, keep_last=3, after_days=30, period="week", batch_size=2)
                if checker_done:
                    break
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=checker), threading.Thread(target=folder)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors
    history.fold_all(now=LATER, keep_last=3, after_days=30, period="week")

    for backlink in backlinks:
        assert history.check_count(backlink) == 40
        assert run_shape(backlink) == [
            ("live", 0, 19, 20),
            ("missing", 20, 24, 5),
            ("live", 25, 39, 15),
        ]
        kept = sorted((c.checked_at - START).days for c in backlink.checks.all())
        assert kept == [0, 20, 25, 37, 38, 39]
    assert (
        LinkCheck.objects.count() + sum(CheckSummary.objects.values_list("count", flat=True))
        == 5 * 40
    )


def test_the_periodic_task_folds_from_where_it_stopped(db, settings):
    from django.core.cache import caches

    from links.tasks import maintain_check_history

    assert settings.CELERY_TASK_ROUTES["links.tasks.maintain_check_history"] == {"queue": "bulk"}
    backlinks = [BacklinkFactory() for _ in range(3)]
    for backlink in backlinks:
        for n in range(20):
            LinkCheckFactory(backlink=backlink, checked_at=day(n), anchors=GUIDE)
    caches["heartbeats"].delete(history.CURSOR_KEY)
    settings.CHECK_FOLD_BATCH_SIZE = 2
    settings.CHECK_FOLD_PERIOD = "week"

    result = maintain_check_history()

    # Days 1-9 of each (the last 10 and the first are kept), in two weeks.
    assert (result["folded"], result["summaries"]) == (3 * 9, 3 * 2)
    assert [history.check_count(b) for b in backlinks] == [20, 20, 20]
    # The walk went round to the start; the next run starts there again.
    assert caches["heartbeats"].get(history.CURSOR_KEY) == 0
    assert maintain_check_history()["folded"] == 0
