from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.dashboard.panels import PANELS
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

# The page: session, user, campaign, the nav's alert count; no chart query.
PAGE_QUERIES = 5
# A chart fragment: session, user, the campaign (for one campaign's dashboard),
# and the chart's one query.
PANEL_QUERIES = {"campaign": 4, "all": 3}


def panel_url(campaign, panel_id: str) -> str:
    if campaign is None:
        return reverse("dashboard:panel", args=[panel_id])
    return reverse("campaigns:dashboard_panel", args=[campaign.slug, panel_id])


def fetch_panel(client, campaign, panel_id: str, params=None):
    """A chart as the dashboard loads it: an htmx request for the fragment."""
    return client.get(panel_url(campaign, panel_id), params or {}, HTTP_HX_REQUEST="true")


def chart_data(html: str, panel_id: str) -> dict:
    return json.loads(html.split(f'id="{panel_id}-data" type="application/json">')[1].split("<")[0])


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
            quality=50 + i % 40,
        )
        LinkCheckFactory(
            backlink=backlink, checked_at=when - timedelta(hours=1), verdict=Verdict.MISSING
        )
        LinkCheckFactory(backlink=backlink, checked_at=when)
        AlertFactory(campaign=campaign, backlink=backlink, kind=Alert.Kind.LOST, created_at=when)


@pytest.mark.parametrize("rows", [3, 30])
def test_the_dashboard_page_runs_no_chart_query_and_places_every_chart(
    as_manager, campaign, rows, django_assert_max_num_queries
):
    populate(campaign, rows)

    with django_assert_max_num_queries(PAGE_QUERIES):
        response = as_manager.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    assert response.status_code == 200
    html = response.content.decode()
    today = timezone.localdate()
    start = today - timedelta(days=89)
    for spec in PANELS:
        assert f'hx-get="{panel_url(campaign, spec.id)}?start={start}&amp;end={today}"' in html
    assert html.count('hx-trigger="load"') == len(PANELS) + 1  # and the outreach figures
    assert "<canvas" not in html


@pytest.mark.parametrize("rows", [3, 30])
def test_every_chart_fragment_runs_one_query_whatever_the_rows(
    as_manager, campaign, other_campaign, rows, django_assert_num_queries
):
    populate(campaign, rows)
    populate(other_campaign, rows)

    for scope, queries in ((campaign, PANEL_QUERIES["campaign"]), (None, PANEL_QUERIES["all"])):
        for spec in PANELS:
            with django_assert_num_queries(queries):
                response = fetch_panel(as_manager, scope, spec.id)
            assert response.status_code == 200, spec.id
            html = response.content.decode()
            assert html.count("<canvas") == 1, spec.id
            assert "<html" not in html  # a fragment, not a page


def test_members_are_refused_both_dashboards(client, member, campaign):
    client.force_login(member)

    assert client.get(reverse("campaigns:dashboard", args=[campaign.slug])).status_code == 403
    assert client.get(reverse("dashboard:all")).status_code == 403
    assert fetch_panel(client, campaign, "links-won").status_code == 403
    assert fetch_panel(client, None, "links-won").status_code == 403


def test_an_unknown_chart_is_404(as_manager, campaign):
    assert fetch_panel(as_manager, campaign, "no-such-chart").status_code == 404
    assert fetch_panel(as_manager, None, "no-such-chart").status_code == 404


def test_the_chart_fragment_passes_its_data_as_json_and_repeats_it_in_a_table(as_manager, campaign):
    populate(campaign, 4)

    html = fetch_panel(as_manager, campaign, "links-won").content.decode()

    data = chart_data(html, "links-won")
    assert data["type"] == "bar"
    assert sum(sum(d["data"]) for d in data["datasets"]) == 4
    assert html.count("<details") == 1
    assert "<caption>Links won per week" in html
    page = as_manager.get(reverse("campaigns:dashboard", args=[campaign.slug]))
    assert "vendor/chartjs-4.6.1/chart.umd.min" in page.content.decode()
    assert "js/dashboard-charts" in page.content.decode()


def test_a_chart_opened_on_its_own_is_a_page_with_that_chart(as_manager, campaign):
    populate(campaign, 3)
    url = panel_url(campaign, "funnel")

    response = as_manager.get(url, {"start": timezone.localdate() - timedelta(days=29)})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Pipeline funnel</h1>" in html
    assert reverse("campaigns:dashboard", args=[campaign.slug]) in html  # the way back
    assert html.count("<canvas") == 1
    assert "chart.umd" in html
    assert "<caption>Pipeline funnel" in html
    assert "HX-Request" in response["Vary"]  # the fragment is cached apart


def test_chart_js_is_loaded_only_on_dashboards(as_manager, campaign):
    html = as_manager.get(reverse("campaigns:detail", args=[campaign.slug])).content.decode()

    assert "chart.umd" not in html


def test_the_default_period_is_the_last_90_days(as_manager, campaign):
    response = as_manager.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    period = response.context["period"]
    assert period.end == timezone.localdate()
    assert (period.end - period.start).days == 89
    html = response.content.decode()
    assert f'name="start" value="{period.start}"' in html  # the fields show the range
    assert f'name="end" value="{period.end}"' in html


def test_a_given_range_is_used(as_manager, campaign):
    today = timezone.localdate()
    start = today - timedelta(days=10)

    response = as_manager.get(
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
def test_bad_dates_are_explained_and_no_chart_is_drawn(as_manager, campaign, params, message):
    response = as_manager.get(reverse("campaigns:dashboard", args=[campaign.slug]), params)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "<canvas" not in html
    assert "chart.umd" not in html
    fragment = fetch_panel(as_manager, campaign, "links-won", params)
    assert fragment.status_code == 400
    assert message in fragment.content.decode()


def test_empty_charts_say_what_to_do_next(as_manager, campaign):
    won = fetch_panel(as_manager, campaign, "links-won").content.decode()
    goal = fetch_panel(as_manager, campaign, "goal").content.decode()

    assert "<canvas" not in won + goal
    assert "No links won in this period" in won
    assert "No goal set" in goal


def test_anchor_warning_shows_past_the_threshold(as_manager, campaign, settings):
    settings.ANCHOR_EXACT_MATCH_WARN_PERCENT = 10
    target = TargetPageFactory(campaign=campaign, title="Trail shoes")
    BacklinkFactory(campaign=campaign, target_page=target, expected_anchor_text="trail shoes")
    BacklinkFactory(campaign=campaign, target_page=target, expected_anchor_text="a review")

    html = fetch_panel(as_manager, campaign, "anchors").content.decode()
    page = as_manager.get(reverse("campaigns:dashboard", args=[campaign.slug]))

    assert "1 of 2 links (50.0%) use an exact-match anchor" in html
    assert "Over-optimized anchors" in html
    assert "equals the title of the link" in page.content.decode()  # the definition


def test_all_campaigns_dashboard_covers_every_campaign(as_manager, campaign, other_campaign):
    BacklinkFactory(campaign=campaign)
    BacklinkFactory(campaign=other_campaign)

    html = fetch_panel(as_manager, None, "links-won").content.decode()

    data = chart_data(html, "links-won")
    assert sum(sum(d["data"]) for d in data["datasets"]) == 2


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
