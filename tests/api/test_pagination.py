"""The keyset cursor (api.pagination): walking the pages of any sort returns
exactly the table's rows in the table's order, forwards and backwards, a cursor
keeps its place when rows are added, and a cursor of another sort is refused."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils import timezone

from api import pagination
from links import queries as link_queries
from links.models import Backlink
from outreach import queries as prospect_queries
from outreach.models import Prospect
from tests.factories import BacklinkFactory, ProspectFactory, TagFactory

pytestmark = pytest.mark.django_db

# Few distinct values, many ties, and nulls: pages must break ties by id and
# cross from the valued rows to the null ones.
ROWS = 23


@pytest.fixture
def prospects(campaign, member):
    today = timezone.localdate()
    now = timezone.now()
    tag = TagFactory(campaign=campaign)
    rows = []
    for n in range(ROWS):
        prospect = ProspectFactory(
            campaign=campaign,
            url=f"https://{'same' if n % 4 == 0 else f'site{n % 5}'}.example/p{n}/",
            status=["new", "contacted", "won", "replied", "lost"][n % 5],
            domain_rating=None if n % 4 == 0 else (n % 3) * 10,
            next_follow_up=today + datetime.timedelta(days=n % 3) if n % 3 else None,
            assignee=member if n % 2 else None,
            created_at=now - datetime.timedelta(days=n % 4),
        )
        Prospect.objects.filter(pk=prospect.pk).update(
            relevance=None if n % 3 == 0 else n % 2 * 50,
            quality=None if n % 5 == 0 else (n % 4) * 25,
        )
        if n % 2:
            prospect.tags.add(tag)
        rows.append(prospect)
    return rows


@pytest.fixture
def backlinks(campaign):
    now = timezone.now()
    today = timezone.localdate()
    for n in range(ROWS):
        BacklinkFactory(
            campaign=campaign,
            source_url=f"https://ref{n % 4}.example/b{n}/",
            won_on=today - datetime.timedelta(days=n % 3),
            last_checked_at=None if n % 4 == 0 else now - datetime.timedelta(hours=n % 2),
            quality=None if n % 3 == 0 else (n % 2) * 40,
        )


def walk(api, url: str) -> list[list[int]]:
    """Every page's ids, following ``next`` from ``url``."""
    pages = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([row["id"] for row in body["results"]])
        url = body["next"]
    return pages


def walk_back(api, url: str) -> list[list[int]]:
    pages = []
    while url:
        body = api.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body["previous"]
    return pages


@pytest.mark.parametrize("sort", list(prospect_queries.SORTS))
def test_every_prospect_sort_pages_through_the_tables_rows(api_member, campaign, prospects, sort):
    table = list(
        prospect_queries.filter_prospects(campaign, {"sort": sort}).values_list("pk", flat=True)
    )
    pages = walk(api_member, f"/api/v1/prospects/?campaign={campaign.pk}&page_size=4&sort={sort}")
    assert [pk for page in pages for pk in page] == table
    assert all(len(page) == 4 for page in pages[:-1])
    # And back from the last page to the first, page by page.
    last = _last_page_url(api_member, pages, "prospects", campaign, sort, 4)
    assert walk_back(api_member, last) == pages[::-1]


@pytest.mark.parametrize("sort", list(link_queries.SORTS))
def test_every_backlink_sort_pages_through_the_tables_rows(api_member, campaign, backlinks, sort):
    table = list(
        link_queries.filter_backlinks(campaign, {"sort": sort}).values_list("pk", flat=True)
    )
    pages = walk(api_member, f"/api/v1/backlinks/?campaign={campaign.pk}&page_size=5&sort={sort}")
    assert [pk for page in pages for pk in page] == table
    last = _last_page_url(api_member, pages, "backlinks", campaign, sort, 5)
    assert walk_back(api_member, last) == pages[::-1]


def _last_page_url(api, pages, path, campaign, sort, size) -> str:
    url = f"/api/v1/{path}/?campaign={campaign.pk}&page_size={size}&sort={sort}"
    for _ in pages[:-1]:
        url = api.get(url).json()["next"]
    return url


def test_a_cursor_keeps_its_place_when_rows_are_added(api_member, campaign, prospects):
    url = f"/api/v1/prospects/?campaign={campaign.pk}&page_size=5&sort=-dr"
    first = api_member.get(url).json()
    before = list(
        prospect_queries.filter_prospects(campaign, {"sort": "-dr"}).values_list("pk", flat=True)
    )
    # New rows on both sides of the cursor, and with the very value it holds.
    for dr in (100, 0, 20, None):
        ProspectFactory(campaign=campaign, domain_rating=dr)
    seen = [row["id"] for row in first["results"]]
    seen += [pk for page in walk(api_member, first["next"]) for pk in page]
    assert len(seen) == len(set(seen))  # no row twice
    old = [pk for pk in seen if pk in set(before)]
    assert old == before  # no old row skipped, order kept
    # The pages after the first are the table's order after the first page's
    # last row: the rows added there show up, the ones added before do not.
    after = list(
        prospect_queries.filter_prospects(campaign, {"sort": "-dr"}).values_list("pk", flat=True)
    )
    assert seen[5:] == after[after.index(seen[4]) + 1 :]
    # 0 and null come after; 100, and 20 (a higher id than the cursor's), before.
    assert len(seen) == len(before) + 2


def test_ties_break_by_id_in_the_keys_direction(api_member, campaign):
    made = [ProspectFactory(campaign=campaign, domain_rating=50).pk for _ in range(6)]
    up = walk(api_member, f"/api/v1/prospects/?campaign={campaign.pk}&page_size=4&sort=dr")
    down = walk(api_member, f"/api/v1/prospects/?campaign={campaign.pk}&page_size=4&sort=-dr")
    assert [pk for page in up for pk in page] == sorted(made)
    assert [pk for page in down for pk in page] == sorted(made, reverse=True)


def test_a_cursor_of_another_sort_is_a_400(api_member, campaign, prospects):
    body = api_member.get(f"/api/v1/prospects/?page_size=3&sort=dr&campaign={campaign.pk}").json()
    cursor = body["next"].split("cursor=")[1].split("&")[0]
    response = api_member.get(f"/api/v1/prospects/?sort=-dr&cursor={cursor}")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    assert "another sort" in response.json()["errors"]["cursor"][0]
    # The default sort is a sort too.
    assert api_member.get(f"/api/v1/prospects/?cursor={cursor}").status_code == 400
    # And another list's cursor, or a forged one.
    assert api_member.get(f"/api/v1/backlinks/?cursor={cursor}").status_code == 400
    # Even one with the same order: the default sorts of prospects and alerts
    # are both newest first (-created_at, -id).
    newest = api_member.get("/api/v1/prospects/?page_size=3").json()["next"]
    newest_cursor = newest.split("cursor=")[1].split("&")[0]
    assert api_member.get(f"/api/v1/alerts/?cursor={newest_cursor}").status_code == 400
    forged = api_member.get("/api/v1/prospects/?cursor=forged")
    assert forged.status_code == 400
    assert forged.json()["errors"]["cursor"] == ["Invalid cursor."]


def test_only_keyset_orders_are_accepted():
    with pytest.raises(ImproperlyConfigured, match="one way"):
        pagination.order_terms(Prospect.objects.order_by("domain", "-id"))
    with pytest.raises(ImproperlyConfigured, match="end in the id"):
        pagination.order_terms(Prospect.objects.order_by("domain"))
    with pytest.raises(ImproperlyConfigured, match="only the first"):
        pagination.order_terms(Backlink.objects.order_by("won_on", "quality", "id"))
    terms = pagination.order_terms(
        Prospect.objects.order_by(F("quality").desc(nulls_last=True), "-id")
    )
    assert [(t.name, t.descending, t.nulls_last) for t in terms] == [
        ("quality", True, True),
        ("id", True, False),
    ]


@pytest.mark.parametrize(
    ("query", "queries"),
    [
        # Token, user (and its last use), the page with its tags.
        ("sort=-created", 4),
        ("sort=domain", 4),
        # A page that runs from the valued rows into the nulls reads both runs.
        ("sort=-dr&page_size=50", 5),
    ],
)
def test_a_prospect_page_costs_a_pinned_number_of_queries(
    api_member, campaign, prospects, django_assert_max_num_queries, query, queries
):
    api_member.get("/api/v1/prospects/")  # the token's last-used write: first call only
    with django_assert_max_num_queries(queries):
        response = api_member.get(f"/api/v1/prospects/?{query}")
    assert response.status_code == 200
    assert response.json()["results"]
