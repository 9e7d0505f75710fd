from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from links.models import Backlink, BacklinkState
from outreach.models import Prospect, Status
from tests.factories import (
    BacklinkFactory,
    CampaignFactory,
    ProspectFactory,
    TargetPageFactory,
)


def fill(campaign, n: int) -> None:
    for i in range(n):
        ProspectFactory(campaign=campaign, status=list(Status)[i % len(Status)])
        BacklinkFactory(campaign=campaign)
        TargetPageFactory(campaign=campaign)


@pytest.mark.parametrize("rows", [1, 25])
def test_campaign_list_query_count_does_not_grow_with_rows(
    client, manager, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        fill(CampaignFactory(), 2)
    client.force_login(manager)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("campaigns:list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [1, 40])
def test_campaign_detail_query_count_does_not_grow_with_rows(
    client, member, campaign, django_assert_max_num_queries, rows
):
    fill(campaign, rows)
    client.force_login(member)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("campaigns:detail", args=[campaign.slug]))
    assert response.status_code == 200


def test_campaign_detail_counts_prospects_per_status(client, member, campaign):
    ProspectFactory.create_batch(3, campaign=campaign, status=Status.CONTACTED)
    ProspectFactory(campaign=campaign, status=Status.WON)
    ProspectFactory(campaign=CampaignFactory(), status=Status.WON)  # another campaign's
    client.force_login(member)
    response = client.get(reverse("campaigns:detail", args=[campaign.slug]))
    counts = {value: n for value, _, n in response.context["prospect_statuses"]}
    assert counts["contacted"] == 3
    assert counts["won"] == 1
    assert counts["new"] == 0


def test_campaign_detail_reads_the_kept_counts_not_the_prospects_or_links(client, member, campaign):
    """The pipeline and link states of a campaign of any size are a few tally
    rows (config.tallies.PROSPECT_STATUSES, BACKLINK_STATES), kept as rows change."""
    prospects = ProspectFactory.create_batch(3, campaign=campaign, status=Status.NEW)
    BacklinkFactory.create_batch(2, campaign=campaign, state=BacklinkState.LIVE)
    Prospect.objects.filter(pk=prospects[0].pk).update(status=Status.REPLIED)
    prospects[1].delete()
    Backlink.objects.filter(campaign=campaign).update(state=BacklinkState.NOFOLLOW)
    client.force_login(member)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("campaigns:detail", args=[campaign.slug]))
    statuses = {value: n for value, _, n in response.context["prospect_statuses"]}
    states = {value: n for value, _, n in response.context["backlink_states"]}
    assert (statuses["new"], statuses["replied"], sum(statuses.values())) == (1, 1, 2)
    assert (states["nofollow"], states["live"]) == (2, 0)
    read = " ".join(q["sql"] for q in captured.captured_queries)
    assert 'FROM "outreach_prospect"' not in read
    assert 'FROM "links_backlink"' not in read


def test_campaign_detail_goal_counts_the_links_won_that_are_not_lost(client, member, campaign):
    campaign.goal_links = 8
    campaign.save()
    BacklinkFactory.create_batch(2, campaign=campaign, state=BacklinkState.LIVE)
    BacklinkFactory(campaign=campaign, state=BacklinkState.NOFOLLOW)
    BacklinkFactory(campaign=campaign, state=BacklinkState.LOST, lost_at=timezone.now())
    BacklinkFactory(campaign=CampaignFactory(), state=BacklinkState.LIVE)  # another campaign's
    client.force_login(member)
    response = client.get(reverse("campaigns:detail", args=[campaign.slug]))
    assert response.context["goal"] == {"won": 3, "goal": 8, "percent": 38}
    assert "3 of 8 links won (38%)" in response.content.decode()


def test_campaign_list_counts_each_campaigns_own_rows(client, manager):
    busy = CampaignFactory(name="Busy")
    fill(busy, 3)
    CampaignFactory(name="Quiet")
    client.force_login(manager)
    response = client.get(reverse("campaigns:list"))
    by_name = {c.name: c for c in response.context["page"].object_list}
    assert (by_name["Busy"].prospect_count, by_name["Busy"].backlink_count) == (3, 3)
    assert (by_name["Quiet"].prospect_count, by_name["Quiet"].backlink_count) == (0, 0)


def test_member_sees_only_their_campaigns_in_the_list(client, member, campaign, other_campaign):
    client.force_login(member)
    response = client.get(reverse("campaigns:list"))
    assert list(response.context["page"].object_list) == [campaign]
    assert other_campaign.name not in response.content.decode()


def test_empty_campaign_list_says_what_to_do(client, member):
    client.force_login(member)
    response = client.get(reverse("campaigns:list"))
    assert "Ask an admin or a manager to add you to a campaign" in response.content.decode()
