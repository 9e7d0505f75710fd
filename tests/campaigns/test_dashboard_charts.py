"""Each dashboard chart query against hand-built data whose answer is known.

The period is four whole weeks, Monday 6 January to Sunday 2 February 2025:
week 1 starts on the 6th, week 2 on the 13th, week 3 on the 20th, week 4 on the
27th.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.dashboard import charts
from campaigns.dashboard.charts import Period
from campaigns.models import Campaign
from campaigns.tasks import compact_tallies
from links.models import Alert, BacklinkState, Verdict
from outreach.models import PIPELINE, ActivityDay, Kind, Prospect, Status, StatusChange
from tests.factories import (
    ActivityFactory,
    AlertFactory,
    BacklinkFactory,
    CampaignFactory,
    LinkCheckFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)

PERIOD = Period(start=date(2025, 1, 6), end=date(2025, 2, 2))
WEEKS = ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"]


def at(day: int, month: int = 1, hour: int = 12) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def only(campaign: Campaign):
    return Campaign.objects.filter(pk=campaign.pk)


def values(chart: charts.Chart, key: str) -> list:
    return next(s.values for s in chart.series if s.key == key)


@pytest.fixture
def ours(db):
    return CampaignFactory(slug="ours")


@pytest.fixture
def theirs(db):
    return CampaignFactory(slug="theirs")


def test_period_lists_its_weeks_and_months():
    period = Period(start=date(2025, 1, 8), end=date(2025, 3, 3))
    assert period.weeks()[0] == date(2025, 1, 6)
    assert period.weeks()[-1] == date(2025, 3, 3)
    assert len(period.weeks()) == 9
    assert period.months() == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]


def test_last_days_ends_today_and_counts_today():
    period = Period.last_days(90, today=date(2025, 3, 31))
    assert (period.start, period.end) == (date(2025, 1, 1), date(2025, 3, 31))


def test_links_won_per_week_splits_dofollow_and_nofollow(ours, theirs):
    for _ in range(2):
        BacklinkFactory(campaign=ours, won_on=date(2025, 1, 7))
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 12), expected_dofollow=False)
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 22), state=BacklinkState.NOFOLLOW)
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 5))  # the day before the period
    BacklinkFactory(campaign=theirs, won_on=date(2025, 1, 7))

    chart = charts.links_won_per_week(only(ours), PERIOD)

    assert chart.labels == WEEKS
    assert values(chart, "dofollow") == [2, 0, 0, 0]
    assert values(chart, "nofollow") == [1, 0, 1, 0]


def test_live_backlinks_over_time_replays_each_backlinks_latest_check(ours, theirs):
    # Live since before the period, missing in week 2, live again in week 4.
    a = BacklinkFactory(campaign=ours)
    LinkCheckFactory(backlink=a, checked_at=at(20, month=12).replace(year=2024))
    LinkCheckFactory(backlink=a, checked_at=at(15), verdict=Verdict.MISSING)
    LinkCheckFactory(backlink=a, checked_at=at(28))
    # First found live in week 2; an error in week 3 proves nothing.
    b = BacklinkFactory(campaign=ours)
    LinkCheckFactory(backlink=b, checked_at=at(14))
    LinkCheckFactory(backlink=b, checked_at=at(21), verdict=Verdict.ERROR, http_status=None)
    # Only ever nofollow: never live.
    c = BacklinkFactory(campaign=ours)
    LinkCheckFactory(backlink=c, checked_at=at(7), verdict=Verdict.NOFOLLOW)
    # Live then missing within week 1: the week ends missing.
    e = BacklinkFactory(campaign=ours)
    LinkCheckFactory(backlink=e, checked_at=at(6))
    LinkCheckFactory(backlink=e, checked_at=at(8), verdict=Verdict.MISSING)
    # Another campaign's link, and a check after the period.
    d = BacklinkFactory(campaign=theirs)
    LinkCheckFactory(backlink=d, checked_at=at(7))
    LinkCheckFactory(backlink=b, checked_at=at(5, month=2), verdict=Verdict.MISSING)

    assert values(charts.live_backlinks_over_time(only(ours), PERIOD), "live") == [1, 1, 1, 2]
    everyone = Campaign.objects.all()
    assert values(charts.live_backlinks_over_time(everyone, PERIOD), "live") == [2, 2, 2, 3]


def test_live_backlinks_use_the_site_time_zone_for_week_boundaries(ours, settings):
    # Sunday 23:30 UTC is already Monday in Berlin: the link is live from week 2 there.
    backlink = BacklinkFactory(campaign=ours)
    LinkCheckFactory(backlink=backlink, checked_at=datetime(2025, 1, 12, 23, 30, tzinfo=UTC))

    assert values(charts.live_backlinks_over_time(only(ours), PERIOD), "live") == [1, 1, 1, 1]
    settings.TIME_ZONE = "Europe/Berlin"
    # The per-day counts are in the zone they were counted in until the
    # compaction task notices the change and counts them again.
    compact_tallies()
    assert values(charts.live_backlinks_over_time(only(ours), PERIOD), "live") == [0, 1, 1, 1]


def test_lost_and_recovered_per_week_counts_alerts_by_kind(ours, theirs):
    AlertFactory(campaign=ours, kind=Alert.Kind.LOST, created_at=at(6))
    AlertFactory(campaign=ours, kind=Alert.Kind.LOST, created_at=at(12, hour=23))
    AlertFactory(campaign=ours, kind=Alert.Kind.RECOVERED, created_at=at(14))
    AlertFactory(campaign=ours, kind=Alert.Kind.NOFOLLOW, created_at=at(30))
    AlertFactory(campaign=ours, kind=Alert.Kind.UNREACHABLE, created_at=at(14))
    AlertFactory(campaign=ours, kind=Alert.Kind.LOST, created_at=at(3, month=2))
    AlertFactory(campaign=theirs, kind=Alert.Kind.LOST, created_at=at(6))

    chart = charts.lost_and_recovered_per_week(only(ours), PERIOD)

    assert values(chart, "lost") == [2, 0, 0, 0]
    assert values(chart, "recovered") == [0, 1, 0, 0]
    assert values(chart, "nofollow") == [0, 0, 0, 1]


def _history(prospect, *steps: tuple[str, datetime]) -> None:
    previous = ""
    for status, when in steps:
        StatusChange.objects.create(
            prospect=prospect, from_status=previous, to_status=status, changed_at=when
        )
        previous = status


def test_funnel_counts_prospects_by_the_furthest_step_their_history_reached(ours, theirs):
    # Skipped "followed up" but reached "replied": counts for every step up to it.
    p1 = ProspectFactory(campaign=ours, created_at=at(6))
    _history(
        p1,
        ("new", at(6)),
        ("qualified", at(7)),
        ("contacted", at(8)),
        ("replied", at(9)),
    )
    # Lost after contact: counts up to "contacted".
    p2 = ProspectFactory(campaign=ours, created_at=at(7))
    _history(p2, ("new", at(7)), ("qualified", at(8)), ("contacted", at(9)), ("lost", at(20)))
    p3 = ProspectFactory(campaign=ours, created_at=at(8))
    _history(p3, ("new", at(8)))
    # Won after the period ended: counts up to where it stood at the end.
    p5 = ProspectFactory(campaign=ours, created_at=at(10))
    _history(
        p5,
        ("new", at(10)),
        ("qualified", at(11)),
        ("contacted", at(12)),
        ("followed_up", at(13)),
        ("replied", at(14)),
        ("negotiating", at(15)),
        ("won", at(5, month=2)),
    )
    # Added before the period, and another campaign's: not in this funnel.
    old = ProspectFactory(campaign=ours, created_at=at(1))
    _history(old, ("new", at(1)), ("won", at(8)))
    other = ProspectFactory(campaign=theirs, created_at=at(8))
    _history(other, ("new", at(8)))

    chart = charts.pipeline_funnel(only(ours), PERIOD)

    assert chart.labels == [
        "New",
        "Qualified",
        "Contacted",
        "Followed up",
        "Replied",
        "Negotiating",
        "Won",
    ]
    assert values(chart, "prospects") == [4, 3, 3, 2, 2, 1, 0]
    assert values(chart, "share") == [100.0, 75.0, 75.0, 50.0, 50.0, 25.0, 0.0]
    assert values(chart, "step") == [None, 75.0, 100.0, 66.7, 100.0, 50.0, 0.0]


def test_a_funnel_ending_today_counts_each_prospect_by_its_furthest_step_so_far(ours, theirs):
    period = Period.last_days(30)
    now = timezone.now()
    ago = lambda days: now - timedelta(days=days)  # noqa: E731
    replied = ProspectFactory(campaign=ours, created_at=ago(20))
    _history(replied, ("new", ago(20)), ("contacted", ago(15)), ("replied", ago(1)))
    lost = ProspectFactory(campaign=ours, created_at=ago(10))
    _history(lost, ("new", ago(10)), ("qualified", ago(9)), ("lost", ago(2)))
    won = ProspectFactory(campaign=ours, created_at=ago(5))
    _history(won, ("new", ago(5)), ("negotiating", ago(4)), ("won", ago(3)))
    # No pipeline status in its history: in no step, as in the history's count.
    ProspectFactory(campaign=ours, created_at=ago(3))
    # Added before the period, and another campaign's.
    _history(ProspectFactory(campaign=ours, created_at=ago(40)), ("new", ago(40)))
    _history(ProspectFactory(campaign=theirs, created_at=ago(4)), ("new", ago(4)))

    chart = charts.pipeline_funnel(only(ours), period)

    assert values(chart, "prospects") == [3, 3, 2, 2, 2, 1, 1]
    # The same as reading the status history up to the period's end.
    assert values(chart, "prospects") == charts.funnel_from_history(only(ours), period)


def test_a_stale_copy_saved_does_not_lower_the_furthest_step(ours):
    prospect = ProspectFactory(campaign=ours)
    stale = Prospect.objects.get(pk=prospect.pk)
    _history(prospect, ("new", timezone.now()), ("replied", timezone.now()))
    stale.notes = "saved from a page loaded before the reply"
    stale.save()
    assert Prospect.objects.get(pk=prospect.pk).furthest_step == PIPELINE.index(Status.REPLIED)
    assert values(charts.pipeline_funnel(only(ours), Period.last_days(7)), "prospects")[4] == 1


def test_activity_per_member_per_week(ours, theirs):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    prospect = ProspectFactory(campaign=ours)
    for day in (6, 7, 8, 14):
        ActivityFactory(prospect=prospect, user=alice, occurred_at=at(day))
    for day in (13, 19):
        ActivityFactory(prospect=prospect, user=bob, occurred_at=at(day))
    ActivityFactory(prospect=prospect, user=None, occurred_at=at(28))
    ActivityFactory(prospect=prospect, user=bob, occurred_at=at(5))  # before the period
    ActivityFactory(prospect=ProspectFactory(campaign=theirs), user=bob, occurred_at=at(7))

    chart = charts.outreach_activity_per_member(only(ours), PERIOD)

    assert [s.label for s in chart.series] == ["alice", "bob", "(deleted user)"]
    assert [s.values for s in chart.series] == [[3, 1, 0, 0], [0, 2, 0, 0], [0, 0, 0, 1]]


def test_activity_counts_only_the_periods_days_of_a_week_it_holds_in_part(ours):
    # Hand-built answer, Wednesday 8 to Wednesday 29 January: the first and
    # last weeks count only their days in the period, the two between all of
    # theirs (from the per-week counts).
    alice = UserFactory(username="alice")
    prospect = ProspectFactory(campaign=ours)
    for day in (6, 7, 8, 12, 13, 19, 20, 26, 29, 30, 31):
        ActivityFactory(prospect=prospect, user=alice, occurred_at=at(day))
    period = Period(start=date(2025, 1, 8), end=date(2025, 1, 29))

    chart = charts.outreach_activity_per_member(Campaign.objects.all(), period)

    assert chart.labels == WEEKS
    assert values(chart, "member-0") == [2, 2, 2, 1]
    # The whole weeks are read from the per-week counts: without the per-day
    # rows of those weeks, the chart is the same.
    ActivityDay.objects.filter(day__range=(date(2025, 1, 13), date(2025, 1, 26))).delete()
    again = charts.outreach_activity_per_member(Campaign.objects.all(), period)
    assert values(again, "member-0") == [2, 2, 2, 1]
    # A period inside one week reads only days.
    inside = Period(start=date(2025, 1, 7), end=date(2025, 1, 12))
    assert values(charts.outreach_activity_per_member(only(ours), inside), "member-0") == [3]


def test_activity_groups_people_beyond_the_shown_few(ours, monkeypatch):
    monkeypatch.setattr(charts, "ACTIVITY_MEMBERS_SHOWN", 1)
    prospect = ProspectFactory(campaign=ours)
    for name, count in [("ann", 3), ("ben", 2), ("cat", 1)]:
        user = UserFactory(username=name)
        for _ in range(count):
            ActivityFactory(prospect=prospect, user=user, occurred_at=at(7))

    chart = charts.outreach_activity_per_member(only(ours), PERIOD)

    assert [s.label for s in chart.series] == ["ann", "Everyone else (2)"]
    assert [s.values[0] for s in chart.series] == [3, 3]


def test_prospects_by_kind_with_win_rate(ours, theirs):
    ProspectFactory(campaign=ours, kind=Kind.BLOGGER, status=Status.WON, created_at=at(6))
    ProspectFactory(campaign=ours, kind=Kind.BLOGGER, status=Status.CONTACTED, created_at=at(7))
    ProspectFactory(
        campaign=ours, kind=Kind.GUEST_POST, status=Status.WON, fee=Decimal(90), created_at=at(8)
    )
    ProspectFactory(campaign=ours, kind=Kind.BROKEN_LINK, status=Status.LOST, created_at=at(9))
    ProspectFactory(campaign=ours, kind=Kind.BLOGGER, status=Status.WON, created_at=at(3))
    ProspectFactory(campaign=theirs, kind=Kind.HARO, status=Status.WON, created_at=at(9))

    chart = charts.prospects_by_kind(only(ours), PERIOD)

    assert chart.labels == ["Blogger", "Guest post", "HARO query", "Broken link"]
    assert values(chart, "prospects") == [2, 1, 0, 1]
    assert values(chart, "won") == [1, 1, 0, 0]
    assert values(chart, "win_rate") == [50.0, 100.0, None, 0.0]


@pytest.fixture
def anchors(ours):
    target = TargetPageFactory(
        campaign=ours,
        title="Trail Running Shoes",
        keywords="trail shoes,  Running Shoes , trail",
    )
    for anchor in [
        "trail running shoes",  # the title, any case: exact
        " Trail Shoes ",  # a keyword, trimmed: exact
        "trail",  # a keyword: exact
        "Running shoes",  # a keyword between extra spaces: exact
        "shoes",  # only part of a keyword: not exact
        "trail shoes, trail",  # two keywords with a comma: not one anchor's match
        "click here",
        "click here",
        "Click here",
        "",
    ]:
        BacklinkFactory(
            campaign=ours, target_page=target, expected_anchor_text=anchor, won_on=date(2025, 1, 7)
        )
    # No target page to compare with: never exact.
    BacklinkFactory(campaign=ours, expected_anchor_text="trail", won_on=date(2025, 1, 8))
    # Lost links, and links won outside the period, are not in the mix.
    BacklinkFactory(
        campaign=ours,
        target_page=target,
        expected_anchor_text="trail",
        won_on=date(2025, 1, 9),
        state=BacklinkState.LOST,
        lost_at=at(20),
    )
    BacklinkFactory(
        campaign=ours, target_page=target, expected_anchor_text="trail", won_on=date(2025, 2, 3)
    )
    return ours


def test_anchor_mix_counts_exact_match_anchors(anchors):
    chart = charts.anchor_text_mix(only(anchors), PERIOD)

    assert chart.labels == [
        "click here",
        "trail",
        "(no anchor text)",
        "running shoes",
        "shoes",
        "trail running shoes",
        "trail shoes",
        "trail shoes, trail",
    ]
    assert values(chart, "exact") == [0, 1, 0, 1, 0, 1, 1, 0]
    assert values(chart, "other") == [3, 1, 1, 0, 1, 0, 0, 1]
    assert chart.extra == {"total": 11, "exact": 4, "share": 36.4, "threshold": 30, "warn": True}


def test_anchor_mix_warns_only_past_the_configured_threshold(anchors, settings):
    settings.ANCHOR_EXACT_MATCH_WARN_PERCENT = 40

    extra = charts.anchor_text_mix(only(anchors), PERIOD).extra

    assert extra["warn"] is False
    assert extra["threshold"] == 40


def test_anchor_mix_folds_the_long_tail_into_one_row(anchors, monkeypatch):
    monkeypatch.setattr(charts, "ANCHORS_SHOWN", 2)

    chart = charts.anchor_text_mix(only(anchors), PERIOD)

    assert chart.labels == ["click here", "trail", "All other anchors"]
    assert values(chart, "exact") == [0, 1, 3]
    assert values(chart, "other") == [3, 1, 3]


def test_referring_domains_accumulate_first_links_per_domain(ours, theirs):
    BacklinkFactory(campaign=ours, source_url="https://a.example/old/", won_on=date(2024, 12, 1))
    BacklinkFactory(
        campaign=ours, source_url="https://www.a.example/new/", won_on=date(2025, 1, 14)
    )
    BacklinkFactory(campaign=ours, source_url="https://b.example/", won_on=date(2025, 1, 8))
    BacklinkFactory(
        campaign=ours,
        source_url="https://c.example/1/",
        won_on=date(2025, 1, 21),
        state=BacklinkState.LOST,
        lost_at=at(25),
    )
    BacklinkFactory(campaign=ours, source_url="https://c.example/2/", won_on=date(2025, 1, 22))
    BacklinkFactory(campaign=ours, source_url="https://e.example/", won_on=date(2025, 2, 3))
    BacklinkFactory(campaign=theirs, source_url="https://d.example/", won_on=date(2025, 1, 8))

    chart = charts.referring_domains_over_time(only(ours), PERIOD)

    assert values(chart, "domains") == [2, 2, 3, 3]
    assert values(
        charts.referring_domains_over_time(Campaign.objects.all(), PERIOD), "domains"
    ) == [
        3,
        3,
        4,
        4,
    ]


def test_referring_domains_over_every_campaign_count_a_shared_site_once(ours, theirs):
    # Hand-built answer: a.example is linked from both campaigns, first by
    # theirs in the second week; b.example by ours before the period.
    BacklinkFactory(campaign=ours, source_url="https://a.example/x/", won_on=date(2025, 1, 22))
    first = BacklinkFactory(
        campaign=theirs, source_url="https://m.a.example/y/", won_on=date(2025, 1, 15)
    )
    BacklinkFactory(campaign=ours, source_url="https://b.example/", won_on=date(2024, 11, 2))
    BacklinkFactory(campaign=theirs, source_url="https://b.example/z/", won_on=date(2025, 1, 7))
    every = Campaign.objects.all()

    assert values(charts.referring_domains_over_time(every, PERIOD), "domains") == [1, 2, 2, 2]
    # Each campaign alone counts the site from its own first link.
    assert values(charts.referring_domains_over_time(only(ours), PERIOD), "domains") == [
        1,
        1,
        2,
        2,
    ]
    first.delete()  # the site's first link is now ours, a week later
    assert values(charts.referring_domains_over_time(every, PERIOD), "domains") == [1, 1, 2, 2]


def test_referring_domains_count_sites_not_hosts(ours):
    # Hand-built answer: m.example.com and example.com are one site, and so are
    # blog.shop.co.uk and shop.co.uk; two blogspot.com blogs are two sites.
    for url, day in [
        ("https://example.com/a/", 7),
        ("https://m.example.com/b/", 8),
        ("https://blog.shop.co.uk/c/", 14),
        ("https://shop.co.uk/d/", 15),
        ("https://alice.blogspot.com/e/", 21),
        ("https://bob.blogspot.com/f/", 28),
    ]:
        BacklinkFactory(campaign=ours, source_url=url, won_on=date(2025, 1, day))

    chart = charts.referring_domains_over_time(only(ours), PERIOD)

    assert values(chart, "domains") == [1, 2, 3, 4]


def test_cost_per_link_counts_guest_post_fees_once(ours):
    guest_post = ProspectFactory(campaign=ours, kind=Kind.GUEST_POST, fee=Decimal(50))
    pricey = ProspectFactory(campaign=ours, kind=Kind.GUEST_POST, fee=Decimal(80))
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 10), cost=Decimal(100))
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 12), prospect=guest_post)  # the fee
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 20), cost=Decimal(0))  # free
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 21), cost=Decimal(30), prospect=pricey)
    BacklinkFactory(campaign=ours, won_on=date(2025, 2, 1))  # no cost known: free
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 5), cost=Decimal(999))

    chart = charts.cost_per_link(only(ours), PERIOD)

    assert chart.labels == ["2025-01", "2025-02"]
    assert values(chart, "links") == [4, 1]
    assert values(chart, "cost") == [Decimal(180), Decimal(0)]
    assert values(chart, "per_link") == [Decimal("45.00"), Decimal("0.00")]
    assert chart.extra == {"links": 5, "cost": Decimal(180), "per_link": Decimal("36.00")}


def test_goal_progress_counts_links_not_lost_against_each_goal(ours, theirs):
    ours.goal_links, ours.goal_date = 10, date(2025, 6, 30)
    ours.save()
    theirs.goal_links = 4
    theirs.save()
    CampaignFactory(name="No goal")
    BacklinkFactory(campaign=ours, state=BacklinkState.LIVE)
    BacklinkFactory(campaign=ours, state=BacklinkState.PENDING)
    BacklinkFactory(campaign=ours, state=BacklinkState.LOST, lost_at=at(9))
    BacklinkFactory(campaign=theirs, state=BacklinkState.LIVE)

    mine = charts.goal_progress(only(ours), PERIOD)
    assert mine.labels == [ours.name]
    assert [s.values for s in mine.series] == [[2], [10], [20.0], ["2025-06-30"]]

    every = charts.goal_progress(Campaign.objects.order_by(), PERIOD)
    assert sorted(zip(every.labels, values(every, "won"), strict=True)) == sorted(
        [(ours.name, 2), (theirs.name, 1)]
    )


def test_link_types_count_rel_kind_and_placement_of_the_links_found(ours, theirs):
    live, nofollow = BacklinkState.LIVE, BacklinkState.NOFOLLOW
    day = date(2025, 1, 8)
    for state, rel, kind, placement in [
        (live, "", "text", "content"),
        (live, "", "text", "content"),
        (live, "", "image", "footer"),
        (live, "", "text", "sidebar"),
        (nofollow, "nofollow", "text", "content"),
        (nofollow, "", "text", "navigation"),  # page-level nofollow: no rel token
        (nofollow, "ugc nofollow", "text", "comments"),
        (nofollow, "nofollow sponsored", "image", "sidebar"),
        (nofollow, "sponsored ugc", "image", "header"),
        (live, "", "", ""),  # checked before placement was recorded
        (nofollow, "ugc", "text", ""),  # a page too deep to place the link
    ]:
        BacklinkFactory(
            campaign=ours,
            won_on=day,
            state=state,
            link_rel=rel,
            link_kind=kind,
            placement=placement,
        )
    # Not counted: not found by the latest check, won outside the period, another campaign.
    BacklinkFactory(
        campaign=ours, won_on=day, state=BacklinkState.LOST, lost_at=at(9), placement="content"
    )
    BacklinkFactory(campaign=ours, won_on=day, state=BacklinkState.PENDING)
    BacklinkFactory(campaign=ours, won_on=date(2025, 1, 5), state=live, placement="content")
    BacklinkFactory(campaign=theirs, won_on=day, state=live, placement="content")

    chart = charts.link_types(only(ours), PERIOD)

    assert chart.labels == [
        "Follow",
        "Nofollow",
        "UGC",
        "Sponsored",
        "Text",
        "Image",
        "Content",
        "Boilerplate",
    ]
    # 11 links: 5 follow; of the 6 nofollow, sponsored 2, ugc 2, plain nofollow 2.
    assert values(chart, "links") == [5, 2, 2, 2, 7, 3, 3, 6]
    assert values(chart, "share") == [45.5, 18.2, 18.2, 18.2, 70.0, 30.0, 33.3, 66.7]
    assert chart.extra == {"total": 11, "placement_unknown": 2, "kind_unknown": 1}


def test_link_types_panel_says_how_many_links_have_no_placement_yet(ours):
    from campaigns.dashboard.panels import PANELS_BY_ID, build_panel

    day = date(2025, 1, 8)
    BacklinkFactory(campaign=ours, won_on=day, state=BacklinkState.LIVE, placement="content")
    BacklinkFactory(campaign=ours, won_on=day, state=BacklinkState.LIVE)

    panel = build_panel(PANELS_BY_ID["link-types"], only(ours), PERIOD)

    assert panel.notes == [
        "1 of 2 links have no placement yet (last checked before placement was recorded, "
        "or on a page too deeply nested to tell): they count in the rel group only."
    ]
    assert panel.rows[0] == ["Follow", "2", "100.0%"]


def test_every_chart_is_empty_without_data(ours):
    for spec in (
        charts.links_won_per_week,
        charts.live_backlinks_over_time,
        charts.lost_and_recovered_per_week,
        charts.pipeline_funnel,
        charts.outreach_activity_per_member,
        charts.prospects_by_kind,
        charts.anchor_text_mix,
        charts.referring_domains_over_time,
        charts.cost_per_link,
        charts.goal_progress,
        charts.link_types,
    ):
        assert spec(only(ours), PERIOD).is_empty, spec.__name__
