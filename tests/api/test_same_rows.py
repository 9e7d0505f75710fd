"""The API's prospect and backlink lists are the tables' own queries: for the
same query string they return the same rows in the same order."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import BacklinkFactory, ProspectFactory, TagFactory

pytestmark = pytest.mark.django_db

PROSPECT_QUERIES = [
    "",
    "sort=dr",
    "sort=-dr",
    "sort=status",
    "sort=-follow_up",
    "sort=domain",
    "status=open&sort=-status",
    "kind=guest_post",
    "q=alpha",
    "dr_min=20&dr_max=60",
    "follow_up=due",
    "assignee=none",
    "status=famous&sort=dr",  # a bad value drops that filter only, on both sides
]
BACKLINK_QUERIES = ["", "state=live", "state=missing", "sort=domain", "sort=-checked", "q=alpha"]


@pytest.fixture
def prospects(campaign, member):
    tag = TagFactory(campaign=campaign)
    today = timezone.localdate()
    rows = []
    for n in range(24):
        prospect = ProspectFactory(
            campaign=campaign,
            url=f"https://{'alpha' if n % 3 == 0 else 'beta'}{n}.example/",
            kind=["blogger", "guest_post", "haro"][n % 3] if n % 3 != 2 else "blogger",
            status=["new", "contacted", "won", "replied"][n % 4],
            domain_rating=None if n % 5 == 0 else (n * 7) % 100,
            assignee=member if n % 2 else None,
            next_follow_up=today + datetime.timedelta(days=(n % 7) - 3) if n % 4 else None,
        )
        if n % 2:
            prospect.tags.add(tag)
        rows.append(prospect)
    return rows


def table_ids(client, url: str, query: str) -> list[int]:
    response = client.get(f"{url}?{query}")
    assert response.status_code == 200
    return [p.pk for p in response.context["page"].object_list]


def api_ids(api, path: str, campaign, query: str) -> list[int]:
    response = api.get(f"{path}?campaign={campaign.pk}&page_size=50&{query}")
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("query", PROSPECT_QUERIES)
def test_prospects_api_and_table_agree(client, api_member, member, campaign, prospects, query):
    client.force_login(member)
    table = table_ids(client, reverse("outreach:prospect_list", args=[campaign.slug]), query)
    assert table  # every query here matches something, so agreement means something
    assert api_ids(api_member, "/api/v1/prospects/", campaign, query) == table


@pytest.mark.parametrize("query", BACKLINK_QUERIES)
def test_backlinks_api_and_table_agree(client, api_member, member, campaign, query):
    now = timezone.now()
    for n in range(12):
        BacklinkFactory(
            campaign=campaign,
            source_url=f"https://{'alpha' if n % 3 == 0 else 'beta'}{n}.example/a/",
            state=["live", "lost", "unconfirmed", "pending"][n % 4],
            last_checked_at=None if n % 5 == 0 else now - datetime.timedelta(hours=n),
            won_on=timezone.localdate() - datetime.timedelta(days=n % 4),
            lost_at=now if n % 4 == 1 else None,
        )
    client.force_login(member)
    table = table_ids(client, reverse("links:backlink_list", args=[campaign.slug]), query)
    assert table
    assert api_ids(api_member, "/api/v1/backlinks/", campaign, query) == table
