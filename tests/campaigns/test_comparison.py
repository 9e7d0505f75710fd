# ruff: noqa: E501  (export rows are kept one per line, as the tools write them)
"""Us against competitors (campaigns/dashboard/comparison.py) with two competitor
exports and a few tracked links whose figures are worked out by hand below."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.dashboard import comparison
from links.models import BacklinkState
from links.prospecting import gap, profile
from links.prospecting.models import BacklinkExport, ExportFacet
from tests.factories import BacklinkExportFactory, BacklinkFactory, ProspectFactory

# Rival A, as Ahrefs writes it. Referring domains: runblog (DR 55), gearlist (71),
# trailnews (38). Follow: rows 1, 3, 5; not: 2 (nofollow), 4 (ugc) -> 60 %.
# Anchors: branded, generic, URL, keyword, empty: 20 % each. First seen:
# 2025-03 x2, 2025-04 x2, one undated. Pages: /shoes from runblog and trailnews
# (2 domains, 3 links), / and /trails one each.
RIVAL_A = (
    "Referring page URL,Domain rating,Target URL,Anchor,Nofollow,UGC,Sponsored,First seen\n"
    "https://www.runblog.example/best,55,https://rival-a.example/shoes,Rival A,false,false,false,2025-03-10 08:00:00\n"
    "https://runblog.example/more,55,https://rival-a.example/shoes,click here,true,false,false,2025-03-20 09:00:00\n"
    "https://gearlist.example/list,71,https://rival-a.example/,https://rival-a.example,false,false,false,2025-04-02 10:00:00\n"
    "https://trailnews.example/a,38,https://rival-a.example/shoes,best running shoes,false,true,false,2025-04-15 11:00:00\n"
    "https://blog.trailnews.example/b,38,https://rival-a.example/trails,,false,false,false,\n"
)  # fmt: skip
# Rival B, as Semrush writes it. Domains: runblog (33), forum (41), onlyb (12),
# bignews (95), 25 % per bucket. Follow 3 of 4 (row 2 sponsored) -> 75 %.
# Anchors: branded 2 ("rival b guide", "rival b"), URL 1, keyword 1. First seen:
# 2025-04 x1, 2025-05 x3. Pages: /guide 3 domains, / 1.
RIVAL_B = (
    "\ufeffPage ascore,Source url,Target url,Anchor,Nofollow,Sponsored,First seen\n"
    "33,https://runblog.example/runs,https://rival-b.example/guide,rival b guide,false,false,2025-04-01\n"
    "41,https://forum.example/t,https://rival-b.example/guide,www.rival-b.example,false,true,2025-05-05\n"
    "12,https://onlyb.example/,https://rival-b.example/guide,guide,false,false,2025-05-06\n"
    "95,https://bignews.example/x,https://rival-b.example/,rival b,false,false,2025-05-07\n"
)  # fmt: skip


@pytest.fixture
def profiles(campaign, manager):
    campaign.site = "shoeshop.example"
    campaign.save()
    gap.import_export(campaign, SimpleUploadedFile("a.csv", RIVAL_A.encode()), by=manager)
    gap.import_export(campaign, SimpleUploadedFile("b.csv", RIVAL_B.encode()), by=manager)
    # Ours: runblog twice (one site; its DR 57 from a prospect), gearlist once
    # (DR 71 from rival A's export), and a lost link that does not count.
    # Follow: 1 live, 1 nofollow, 1 not checked yet -> 50 %.
    ProspectFactory(campaign=campaign, url="https://runblog.example/", domain_rating=57)
    for source, anchor, state, won in (
        ("https://runblog.example/ours", "Shoeshop", BacklinkState.LIVE, date(2025, 5, 2)),
        ("https://blog.runblog.example/x", "running shoes", BacklinkState.NOFOLLOW,
         date(2025, 5, 20)),
        ("https://gearlist.example/y", "shoeshop.example", BacklinkState.PENDING,
         date(2025, 4, 11)),
    ):  # fmt: skip
        BacklinkFactory(
            campaign=campaign, source_url=source, expected_anchor_text=anchor, state=state,
            won_on=won,
        )  # fmt: skip
    BacklinkFactory(
        campaign=campaign,
        source_url="https://lostsite.example/z",
        expected_anchor_text="here",
        won_on=date(2025, 4, 1),
        state=BacklinkState.LOST,
        lost_at=timezone.now(),
    )
    return campaign


def sides_by_label(result: comparison.Comparison) -> dict[str, comparison.Side]:
    return {side.label: side for side in result.sides}


@pytest.mark.django_db
def test_each_side_is_counted_by_hand(profiles):
    result = comparison.compare(profiles, today=date(2025, 6, 15))
    sides = sides_by_label(result)
    assert list(sides) == ["Ours (tracked links)", "rival-b.example", "rival-a.example"]
    ours, a, b = sides["Ours (tracked links)"], sides["rival-a.example"], sides["rival-b.example"]

    assert (ours.domains, ours.links, a.domains, a.links, b.domains, b.links) == (2, 3, 3, 5, 4, 4)
    assert (ours.follow_share, a.follow_share, b.follow_share) == (50.0, 60.0, 75.0)

    dr = {label: dict(zip(comparison.DR_LABELS, side.dr, strict=True)) for label, side in
          sides.items()}  # fmt: skip
    assert {k: v for k, v in dr["Ours (tracked links)"].items() if v} == {"50-59": 1, "70-79": 1}
    assert {k: v for k, v in dr["rival-a.example"].items() if v} == {
        "30-39": 1,
        "50-59": 1,
        "70-79": 1,
    }
    assert {k: v for k, v in dr["rival-b.example"].items() if v} == {
        "10-19": 1,
        "30-39": 1,
        "40-49": 1,
        "90-100": 1,
    }

    assert dict(ours.anchors) == {"branded": 1, "other": 1, "url": 1}
    assert dict(a.anchors) == {"branded": 1, "generic": 1, "url": 1, "other": 1, "empty": 1}
    assert dict(b.anchors) == {"branded": 2, "url": 1, "other": 1}

    assert dict(ours.months) == {date(2025, 4, 1): 1, date(2025, 5, 1): 2}
    assert dict(a.months) == {date(2025, 3, 1): 2, date(2025, 4, 1): 2}
    assert dict(b.months) == {date(2025, 4, 1): 1, date(2025, 5, 1): 3}
    assert result.months[0] == date(2023, 7, 1)
    assert result.months[-1] == date(2025, 6, 1)


@pytest.mark.django_db
def test_charts_show_shares_side_by_side(profiles):
    result = comparison.compare(profiles, today=date(2025, 6, 15))
    panels = {panel.spec.id: panel for panel in comparison.panels(result)}
    assert set(panels) == {"cmp-domains", "cmp-dr", "cmp-follow", "cmp-anchors", "cmp-months"}
    assert all(not panel.empty for panel in panels.values())

    anchors = panels["cmp-anchors"].chartjs
    assert anchors["labels"] == ["Ours (tracked links)", "rival-b.example", "rival-a.example"]
    shares = {d["label"]: d["data"] for d in anchors["datasets"]}
    assert shares["Branded"] == [33.3, 50.0, 20.0]
    assert shares["Generic"] == [0.0, 0.0, 20.0]
    assert shares["No text / image"] == [0.0, 0.0, 20.0]

    dr = {d["label"]: d["data"] for d in panels["cmp-dr"].chartjs["datasets"]}
    assert dr["rival-b.example"][9] == 25.0  # 90-100
    assert dr["Ours (tracked links)"][5] == 50.0  # 50-59

    follow = panels["cmp-follow"].chartjs["datasets"][0]["data"]
    assert follow == [50.0, 75.0, 60.0]

    months = panels["cmp-months"].chartjs
    may = months["labels"].index("2025-05")
    assert [d["data"][may] for d in months["datasets"]] == [2, 3, 0]


@pytest.mark.django_db
def test_most_linked_pages_by_referring_domains(profiles):
    result = comparison.compare(profiles, today=date(2025, 6, 15))
    pages = list(comparison.most_linked_pages(result))
    assert [(p.key, p.competitor, p.domains, p.links) for p in pages] == [
        ("https://rival-b.example/guide", "rival-b.example", 3, 3),
        ("https://rival-a.example/shoes", "rival-a.example", 2, 3),
        ("https://rival-a.example/", "rival-a.example", 1, 1),
        ("https://rival-a.example/trails", "rival-a.example", 1, 1),
        ("https://rival-b.example/", "rival-b.example", 1, 1),
    ]


@pytest.mark.django_db
def test_a_reupload_replaces_the_older_export_on_the_page(profiles, manager):
    newer = "Referring page URL,Target URL\nhttps://new.example/p,https://rival-a.example/\n"
    gap.import_export(profiles, SimpleUploadedFile("a2.csv", newer.encode()), by=manager)
    sides = sides_by_label(comparison.compare(profiles, today=date(2025, 6, 15)))
    assert sides["rival-a.example"].domains == 1
    assert sides["rival-a.example"].follow_share is None  # no follow column in this file
    assert BacklinkExport.objects.filter(competitor="rival-a.example").count() == 2


@pytest.mark.django_db
def test_competitors_beyond_the_cap_are_named_not_drawn(campaign, monkeypatch):
    monkeypatch.setattr(comparison, "MAX_COMPETITORS", 1)
    BacklinkExportFactory(campaign=campaign, competitor="big.example", domain_count=10)
    BacklinkExportFactory(campaign=campaign, competitor="small.example", domain_count=2)
    result = comparison.compare(campaign)
    assert [side.label for side in result.competitors] == ["big.example"]
    assert result.left_out == ["small.example"]


def test_anchor_classes():
    brand = profile.brand_of("acme-shoes.co.uk")
    assert brand == "acmeshoes"
    assert profile.anchor_class("", brand) == "empty"
    assert profile.anchor_class("https://acme-shoes.co.uk/x", brand) == "url"
    assert profile.anchor_class("acme-shoes.co.uk", brand) == "url"
    assert profile.anchor_class("click here", brand) == "generic"
    assert profile.anchor_class("acme shoes", brand) == "branded"
    assert profile.anchor_class("trail running shoes", brand) == "other"
    assert profile.follows_by_rel("nofollow noopener") is False
    assert profile.follows_by_rel("dofollow") is True
    assert profile.follows_by_rel("") is None
    assert profile.month_of("2024-05-17 10:21:03") == date(2024, 5, 1)
    assert profile.month_of("17/05/2024") is None


# --- the page ---------------------------------------------------------------------------


def page_url(campaign) -> str:
    return reverse("campaigns:comparison", args=[campaign.slug])


def chart_data(html: str, panel_id: str) -> dict:
    return json.loads(html.split(f'id="{panel_id}-data" type="application/json">')[1].split("<")[0])


def test_the_page_shows_every_side_and_chart_in_bounded_queries(
    client, member, profiles, django_assert_max_num_queries
):
    client.force_login(member)
    with django_assert_max_num_queries(14):
        response = client.get(page_url(profiles))
    assert response.status_code == 200
    html = response.content.decode()
    for panel_id in ("cmp-domains", "cmp-dr", "cmp-follow", "cmp-anchors", "cmp-months"):
        assert f'data-chart="{panel_id}-data"' in html
    assert chart_data(html, "cmp-domains")["datasets"][0]["data"] == [2, 4, 3]
    assert "https://rival-b.example/guide" in html
    assert "Competitors' most-linked pages" in html


def test_the_query_count_does_not_grow_with_the_rows(
    client, member, profiles, manager, django_assert_max_num_queries
):
    more = "Referring page URL,Domain rating,Target URL,Anchor,Nofollow,First seen\n" + "".join(
        f"https://site{n}.example/p,{n % 100},https://rival-c.example/p{n % 7},a{n},false,2025-0{1 + n % 9}-01\n"
        for n in range(300)
    )  # fmt: skip
    gap.import_export(profiles, SimpleUploadedFile("c.csv", more.encode()), by=manager)
    for n in range(30):
        BacklinkFactory(campaign=profiles, source_url=f"https://mine{n}.example/")
    client.force_login(member)
    with django_assert_max_num_queries(14):
        response = client.get(page_url(profiles), {"page": 2})
    assert response.status_code == 200
    assert ExportFacet.objects.filter(kind="page").count() == 5 + 7


def test_without_exports_the_page_says_how_to_start(client, member, campaign):
    client.force_login(member)
    html = client.get(page_url(campaign)).content.decode()
    assert "No competitor export yet." in html
    assert "<canvas" not in html


def test_another_campaigns_member_is_refused(client, member, other_campaign):
    client.force_login(member)
    assert client.get(page_url(other_campaign)).status_code == 404
