"""The dashboard's quality and new-referring-domain charts against hand-built data.

Same period as test_dashboard_charts.py: four whole weeks from Monday 6 January
2025 (weeks start on the 6th, 13th, 20th and 27th)."""

from __future__ import annotations

from datetime import date

import pytest

from campaigns.dashboard import charts
from campaigns.dashboard.charts import Period
from campaigns.dashboard.panels import PANELS_BY_ID, build_panel
from campaigns.models import Campaign
from tests.factories import BacklinkFactory, CampaignFactory

PERIOD = Period(start=date(2025, 1, 6), end=date(2025, 2, 2))
WEEKS = ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"]


def values(chart: charts.Chart, key: str) -> list:
    return next(s.values for s in chart.series if s.key == key)


@pytest.fixture
def ours(db):
    return CampaignFactory(slug="ours")


@pytest.fixture
def theirs(db):
    return CampaignFactory(slug="theirs")


def link(campaign, source: str, day: date, quality: int | None = None):
    return BacklinkFactory(campaign=campaign, source_url=source, won_on=day, quality=quality)


def test_quality_over_time_averages_the_scored_links_won_each_week(ours, theirs):
    link(ours, "https://a.example/1", date(2025, 1, 7), 40)
    link(ours, "https://a.example/2", date(2025, 1, 8), 60)
    link(ours, "https://b.example/1", date(2025, 1, 21), 90)
    link(ours, "https://b.example/2", date(2025, 1, 22), None)  # not scored: left out
    link(ours, "https://c.example/1", date(2025, 1, 1), 100)  # before the period
    link(theirs, "https://d.example/1", date(2025, 1, 7), 10)

    chart = charts.quality_over_time(Campaign.objects.filter(pk=ours.pk), PERIOD)
    assert chart.labels == WEEKS
    assert values(chart, "average") == [50.0, None, 90.0, None]
    assert values(chart, "links") == [2, 0, 1, 0]

    everyone = charts.quality_over_time(Campaign.objects.all(), PERIOD)
    # (40 + 60 + 10) / 3
    assert values(everyone, "average") == [36.7, None, 90.0, None]


def test_quality_panel_leaves_weeks_without_links_blank_in_the_table(ours):
    link(ours, "https://a.example/1", date(2025, 1, 7), 40)
    panel = build_panel(PANELS_BY_ID["quality"], Campaign.objects.filter(pk=ours.pk), PERIOD)
    assert panel.rows[0] == ["2025-01-06", "40.0", "1"]
    assert panel.rows[1] == ["2025-01-13", "—", "0"]
    assert panel.chartjs["datasets"][0]["data"] == [40.0, None, None, None]


def test_new_referring_domains_count_each_sites_first_link_in_its_week(ours, theirs):
    # a.example linked before the period: its link in week 1 is not new.
    link(ours, "https://a.example/old", date(2024, 12, 30))
    link(ours, "https://a.example/again", date(2025, 1, 8))
    # b.example is new in week 1; blog.b.example is the same site, not new again.
    link(ours, "https://b.example/1", date(2025, 1, 7))
    link(ours, "https://blog.b.example/2", date(2025, 1, 14))
    link(ours, "https://c.example/1", date(2025, 1, 28))
    link(ours, "https://e.example/1", date(2025, 2, 3))  # after the period
    # New to the other campaign in week 2, though not to ours.
    link(theirs, "https://b.example/3", date(2025, 1, 15))

    chart = charts.new_referring_domains_per_week(Campaign.objects.filter(pk=ours.pk), PERIOD)
    assert chart.labels == WEEKS
    assert values(chart, "domains") == [1, 0, 0, 1]

    everyone = charts.new_referring_domains_per_week(Campaign.objects.all(), PERIOD)
    assert values(everyone, "domains") == [1, 1, 0, 1]


def test_both_charts_are_empty_without_data(ours):
    scope = Campaign.objects.filter(pk=ours.pk)
    assert charts.quality_over_time(scope, PERIOD).is_empty
    assert charts.new_referring_domains_per_week(scope, PERIOD).is_empty


def test_both_charts_run_one_query(ours, django_assert_num_queries):
    link(ours, "https://a.example/1", date(2025, 1, 7), 40)
    scope = Campaign.objects.filter(pk=ours.pk)
    with django_assert_num_queries(1):
        charts.quality_over_time(scope, PERIOD)
    with django_assert_num_queries(1):
        charts.new_referring_domains_per_week(scope, PERIOD)
