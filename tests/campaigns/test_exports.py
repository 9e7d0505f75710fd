from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from campaigns import spreadsheets
from campaigns.spreadsheets import neutralize_cell
from links.models import BacklinkState
from outreach.exports import PROSPECT_COLUMNS
from outreach.models import Kind, Status, Tag
from tests.factories import BacklinkFactory, ProspectFactory, TargetPageFactory, UserFactory


def read_csv(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, for Excel"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def export(client, campaign, what: str, **params):
    return client.get(reverse(f"campaigns:{what}_export", args=[campaign.slug]), params)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralize_cell(text, expected):
    assert neutralize_cell(text) == expected


def test_member_of_the_campaign_exports_prospects(client, member, campaign):
    client.force_login(member)
    ProspectFactory(campaign=campaign, contact_name="Sam Park", domain_rating=55)

    response = export(client, campaign, "prospects")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{campaign.slug}-prospects-{today:%Y-%m-%d}.csv"'
    )
    (row,) = read_csv(response)
    assert row["contact_name"] == "Sam Park"
    assert row["domain_rating"] == "55"
    assert list(row) == [column.header for column in PROSPECT_COLUMNS]


def test_formula_cells_are_neutralized_in_exports(client, manager, campaign):
    client.force_login(manager)
    ProspectFactory(
        campaign=campaign,
        contact_name="=cmd|' /C calc'!A0",
        notes="+SUM(1,2)",
        niche="@import",
    )
    target = TargetPageFactory(campaign=campaign)
    BacklinkFactory(campaign=campaign, target_page=target, expected_anchor_text="-10% off")

    (prospect,) = read_csv(export(client, campaign, "prospects"))
    (backlink,) = read_csv(export(client, campaign, "backlinks"))

    assert prospect["contact_name"] == "'=cmd|' /C calc'!A0"
    assert prospect["notes"] == "'+SUM(1,2)"
    assert prospect["niche"] == "'@import"
    assert backlink["expected_anchor_text"] == "'-10% off"


@pytest.fixture
def prospects(campaign, member):
    alice = UserFactory(username="alice")
    tier1 = Tag.objects.create(campaign=campaign, name="tier-1")
    today = timezone.localdate()
    rows = {
        "blog": ProspectFactory(
            campaign=campaign,
            url="https://runners.example/a/",
            kind=Kind.BLOGGER,
            status=Status.CONTACTED,
            assignee=alice,
            domain_rating=20,
            next_follow_up=today - timedelta(days=1),
        ),
        "guest": ProspectFactory(
            campaign=campaign,
            url="https://shoes.example/b/",
            kind=Kind.GUEST_POST,
            fee=Decimal(100),
            status=Status.WON,
            assignee=member,
            domain_rating=70,
            next_follow_up=today - timedelta(days=1),  # closed: never due
        ),
        "haro": ProspectFactory(
            campaign=campaign,
            url="https://news.example/c/",
            kind=Kind.HARO,
            status=Status.NEW,
            domain_rating=None,
            contact_name="Jo Runner",
        ),
    }
    rows["blog"].tags.add(tier1)
    ProspectFactory(url="https://elsewhere.example/")  # another campaign
    return rows


# The export calls the prospect list's own filter (outreach.queries), whose
# tests cover each filter; these show the query string reaches it unchanged
# and that the export and the list agree.
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"blog", "guest", "haro"}),
        ({"kind": "guest_post"}, {"guest"}),
        ({"status": "open"}, {"blog", "haro"}),
        ({"assignee": "none"}, {"haro"}),
        ({"q": "runner"}, {"blog", "haro"}),
        ({"dr_min": "10", "dr_max": "30"}, {"blog"}),
        ({"follow_up": "due"}, {"blog"}),
        ({"kind": "blogger", "status": "won"}, set()),
        # A value the list cannot use drops that filter only, as on the list.
        ({"kind": "podcast", "status": "won"}, {"guest"}),
    ],
)
def test_prospect_export_has_the_rows_of_the_filtered_list(
    client, member, campaign, prospects, params, expected
):
    client.force_login(member)

    rows = read_csv(export(client, campaign, "prospects", **params))

    by_url = {p.url: name for name, p in prospects.items()}
    assert {by_url[row["url"]] for row in rows} == expected
    listed = client.get(reverse("outreach:prospect_list", args=[campaign.slug]), params)
    assert {p.url for p in listed.context["page"].object_list} == {row["url"] for row in rows}


def test_prospect_export_filters_by_assignee_and_tag_ids(client, member, campaign, prospects):
    client.force_login(member)
    alice = prospects["blog"].assignee
    tag = prospects["blog"].tags.get()

    by_assignee = read_csv(export(client, campaign, "prospects", assignee=str(alice.pk)))
    by_tag = read_csv(export(client, campaign, "prospects", tag=str(tag.pk)))

    assert [row["assignee"] for row in by_assignee] == ["alice"]
    assert [row["tags"] for row in by_tag] == ["tier-1"]


def test_the_lists_link_to_the_export_with_their_filters(client, member, campaign, prospects):
    client.force_login(member)
    BacklinkFactory(campaign=campaign)

    prospect_list = client.get(
        reverse("outreach:prospect_list", args=[campaign.slug]), {"kind": "blogger"}
    ).content.decode()
    backlink_list = client.get(
        reverse("links:backlink_list", args=[campaign.slug]), {"state": "pending"}
    ).content.decode()

    export_url = reverse("campaigns:prospects_export", args=[campaign.slug])
    assert f'href="{export_url}?kind=blogger"' in prospect_list
    export_url = reverse("campaigns:backlinks_export", args=[campaign.slug])
    assert f'href="{export_url}?state=pending"' in backlink_list


@pytest.fixture
def backlinks(campaign):
    return {
        "live": BacklinkFactory(
            campaign=campaign,
            source_url="https://alpha.example/post/",
            state=BacklinkState.LIVE,
            expected_anchor_text="trail shoes",
        ),
        "lost": BacklinkFactory(
            campaign=campaign,
            source_url="https://beta.example/post/",
            state=BacklinkState.LOST,
            lost_at=timezone.now(),
            noindex=True,
        ),
        "nofollow": BacklinkFactory(
            campaign=campaign,
            source_url="https://gamma.example/post/",
            expected_dofollow=False,
            canonical_url="https://gamma.example/elsewhere/",
            won_on=date(2025, 1, 1),
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"live", "lost", "nofollow"}),
        ({"state": "lost"}, {"lost"}),
        ({"state": "missing"}, {"lost"}),
        ({"flag": "noindex"}, {"lost"}),
        ({"flag": "canonical"}, {"nofollow"}),
        ({"q": "TRAIL"}, {"live"}),
        ({"q": "gamma"}, {"nofollow"}),
    ],
)
def test_backlink_export_has_the_rows_of_the_filtered_list(
    client, manager, campaign, backlinks, params, expected
):
    client.force_login(manager)

    rows = read_csv(export(client, campaign, "backlinks", **params))

    by_url = {b.source_url: name for name, b in backlinks.items()}
    assert {by_url[row["source_url"]] for row in rows} == expected


def test_backlink_export_orders_newest_first_and_formats_cells(
    client, manager, campaign, backlinks
):
    client.force_login(manager)

    rows = read_csv(export(client, campaign, "backlinks"))

    assert rows[-1]["source_url"] == "https://gamma.example/post/"
    assert rows[-1]["won_on"] == "2025-01-01"
    assert rows[-1]["expected_dofollow"] == "no"
    lost = next(row for row in rows if row["source_url"] == "https://beta.example/post/")
    assert lost["lost_at"].endswith("+00:00")
    assert lost["noindex"] == "yes"


def test_backlink_export_has_each_links_placement_kind_and_rel(client, manager, campaign):
    BacklinkFactory(
        campaign=campaign,
        source_url="https://footer.example/",
        state="nofollow",
        placement="footer",
        link_kind="image",
        link_rel="nofollow sponsored",
    )
    client.force_login(manager)

    [row] = read_csv(export(client, campaign, "backlinks"))

    assert (row["placement"], row["link_kind"], row["link_rel"]) == (
        "footer",
        "image",
        "nofollow sponsored",
    )


def test_export_streams_in_chunks_with_bounded_queries(
    client, manager, campaign, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(spreadsheets, "CHUNK_SIZE", 10)
    tag = Tag.objects.create(campaign=campaign, name="t")
    for _ in range(25):
        ProspectFactory(campaign=campaign).tags.add(tag)
    client.force_login(manager)

    # Session, user, campaign, the rows (one cursor), and the tags once per chunk of 10.
    with django_assert_max_num_queries(3 + 1 + 3):
        rows = read_csv(export(client, campaign, "prospects"))

    assert len(rows) == 25
    assert {row["tags"] for row in rows} == {"t"}
