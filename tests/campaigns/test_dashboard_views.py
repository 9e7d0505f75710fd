from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Role
from links.models import Alert, BacklinkState, Verdict
from outreach.models import Status, StatusChange
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

# Session, user, campaign, and one query per chart: whatever the rows.
DASHBOARD_QUERIES = 14


def populate(campaign, n: int) -> None:
    """n of every row the charts read, spread over the last few weeks."""
    now = timezone.now()
    campaign.goal_links = 50
    campaign.save()
    target = TargetPageFactory(campaign=campaign, keywords="running shoes")
    worker = UserFactory()
    for i in range(n):
        when = now - timedelta(days=i % 60)
        prospect = ProspectFactory(campaign=campaign, created_at=when, status=Status.CONTACTED)
        StatusChange.objects.create(prospect=prospect, to_status="new", changed_at=when)
        StatusChange.objects.create(
            prospect=prospect, from_status="new", to_status="contacted", changed_at=when
        )
        ActivityFactory(prospect=prospect, user=worker, occurred_at=when)
        backlink = BacklinkFactory(
            campaign=campaign,
            target_page=target,
            won_on=when.date(),
            expected_anchor_text="running shoes" if i % 2 else f"anchor {i}",
            state=BacklinkState.LIVE,
        )
        LinkCheckFactory(
            backlink=backlink, checked_at=when - timedelta(hours=1), verdict=Verdict.MISSING
        )
        LinkCheckFactory(backlink=backlink, checked_at=when)
        AlertFactory(campaign=campaign, backlink=backlink, kind=Alert.Kind.LOST, created_at=when)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.mark.parametrize("rows", [3, 30])
def test_campaign_dashboard_queries_do_not_grow_with_rows(
    manager_client, campaign, rows, django_assert_max_num_queries
):
    populate(campaign, rows)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = manager_client.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    assert response.status_code == 200
    assert response.content.count(b"<canvas") == 10


@pytest.mark.parametrize("rows", [3, 30])
def test_all_campaigns_dashboard_queries_do_not_grow_with_rows(
    manager_client, campaign, other_campaign, rows, django_assert_max_num_queries
):
    populate(campaign, rows)
    populate(other_campaign, rows)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = manager_client.get(reverse("dashboard:all"))

    assert response.status_code == 200


def test_members_are_refused_both_dashboards(client, member, campaign):
    client.force_login(member)

    assert client.get(reverse("campaigns:dashboard", args=[campaign.slug])).status_code == 403
    assert client.get(reverse("dashboard:all")).status_code == 403


def test_the_dashboard_passes_chart_data_as_json_and_repeats_it_in_tables(manager_client, campaign):
    populate(campaign, 4)

    response = manager_client.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    html = response.content.decode()
    data = json.loads(html.split('id="links-won-data" type="application/json">')[1].split("<")[0])
    assert data["type"] == "bar"
    assert sum(sum(d["data"]) for d in data["datasets"]) == 4
    assert html.count("<details") == 10
    assert "<caption>Links won per week" in html
    assert "vendor/chartjs-4.6.1/chart.umd.min" in html
    assert "js/dashboard-charts" in html


def test_chart_js_is_loaded_only_on_dashboards(manager_client, campaign):
    html = manager_client.get(reverse("campaigns:detail", args=[campaign.slug])).content.decode()

    assert "chart.umd" not in html


def test_the_default_period_is_the_last_90_days(manager_client, campaign):
    response = manager_client.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    period = response.context["period"]
    assert period.end == timezone.localdate()
    assert (period.end - period.start).days == 89


def test_a_given_range_is_used(manager_client, campaign):
    today = timezone.localdate()
    start = today - timedelta(days=10)

    response = manager_client.get(
        reverse("campaigns:dashboard", args=[campaign.slug]), {"start": start, "end": today}
    )

    assert (response.context["period"].start, response.context["period"].end) == (start, today)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-02-30"}, "Enter a valid date."),
        ({"start": "last week"}, "Enter a valid date."),
        ({"start": "2025-03-01", "end": "2025-02-01"}, "on or before the end date"),
        ({"start": "2020-01-01", "end": "2025-01-01"}, "at most 731 days"),
        ({"end": "2999-01-01"}, "cannot be after today"),
    ],
)
def test_bad_dates_are_explained_and_no_chart_is_drawn(manager_client, campaign, params, message):
    response = manager_client.get(reverse("campaigns:dashboard", args=[campaign.slug]), params)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "<canvas" not in html
    assert "chart.umd" not in html


def test_empty_charts_say_what_to_do_next(manager_client, campaign):
    response = manager_client.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    html = response.content.decode()
    assert "<canvas" not in html
    assert "No links won in this period" in html
    assert "No goal set" in html


def test_anchor_warning_shows_past_the_threshold(manager_client, campaign, settings):
    settings.ANCHOR_EXACT_MATCH_WARN_PERCENT = 10
    target = TargetPageFactory(campaign=campaign, title="Trail shoes")
    BacklinkFactory(campaign=campaign, target_page=target, expected_anchor_text="trail shoes")
    BacklinkFactory(campaign=campaign, target_page=target, expected_anchor_text="a review")

    html = manager_client.get(reverse("campaigns:dashboard", args=[campaign.slug])).content.decode()

    assert "1 of 2 links (50.0%) use an exact-match anchor" in html
    assert "Over-optimized anchors" in html
    assert "equals the title of the link" in html  # the definition is shown


def test_all_campaigns_dashboard_covers_every_campaign(manager_client, campaign, other_campaign):
    BacklinkFactory(campaign=campaign)
    BacklinkFactory(campaign=other_campaign)

    response = manager_client.get(reverse("dashboard:all"))

    won = next(p for p in response.context["panels"] if p.spec.id == "links-won")
    assert sum(sum(s.values) for s in won.chart.series) == 2


@pytest.mark.parametrize(
    ("role", "sees_link"), [(Role.MEMBER, False), (Role.MANAGER, True), (Role.ADMIN, True)]
)
def test_dashboard_links_are_shown_to_managers_and_admins(db, client, role, sees_link):
    user = UserFactory(role=role)
    campaign = CampaignFactory(members=[user])
    client.force_login(user)

    list_html = client.get(reverse("campaigns:list")).content.decode()
    detail_html = client.get(reverse("campaigns:detail", args=[campaign.slug])).content.decode()
    prospects_html = client.get(
        reverse("outreach:prospect_list", args=[campaign.slug])
    ).content.decode()

    assert (reverse("dashboard:all") in list_html) is sees_link
    dashboard_url = reverse("campaigns:dashboard", args=[campaign.slug])
    assert (dashboard_url in detail_html) is sees_link
    assert (dashboard_url in prospects_html) is sees_link
