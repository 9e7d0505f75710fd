from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Role
from links.models import Alert, Backlink, BacklinkState
from outreach.models import Kind, Status
from tests.factories import (
    PASSWORD,
    AlertFactory,
    BacklinkFactory,
    CampaignFactory,
    LinkCheckFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)

HTMX = {"HX-Request": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target}


def list_url(campaign) -> str:
    return reverse("links:backlink_list", args=[campaign.slug])


def row_url(backlink) -> str:
    return reverse("links:backlink_row", args=[backlink.campaign.slug, backlink.pk])


# --- list -------------------------------------------------------------------------


def test_list_shows_verdict_badges_and_flags(signed_in, campaign):
    BacklinkFactory(
        campaign=campaign,
        source_url="https://live-source.example/a",
        state=BacklinkState.LIVE,
        noindex=True,
        canonical_url="https://elsewhere.example/",
    )
    content = signed_in.get(list_url(campaign)).content.decode()
    assert '<span class="badge verdict-live">Live</span>' in content
    assert ">noindex</span>" in content
    assert ">canonical elsewhere</span>" in content
    assert "live-source.example" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "live"}, {"live"}),
        ({"state": "missing"}, {"unconfirmed", "lost"}),
        ({"state": "lost"}, {"lost"}),
        ({"state": "pending"}, {"pending"}),
        ({"flag": "noindex"}, {"unconfirmed"}),
        ({"flag": "canonical"}, {"error"}),
        ({"flag": "robots"}, {"unreachable"}),
        ({"q": "lost-one"}, {"lost"}),
        ({"placement": "content"}, {"live"}),
        ({"placement": "footer"}, {"unconfirmed"}),
        ({"placement": "boilerplate"}, {"unconfirmed", "lost"}),
    ],
)
def test_list_filters(signed_in, campaign, query, expected):
    now = timezone.now()
    BacklinkFactory(campaign=campaign, state=BacklinkState.LIVE, placement="content")
    BacklinkFactory(
        campaign=campaign, state=BacklinkState.UNCONFIRMED, noindex=True, placement="footer"
    )
    BacklinkFactory(
        campaign=campaign,
        state=BacklinkState.LOST,
        lost_at=now,
        source_url="https://lost-one.example/",
        placement="sidebar",
    )
    BacklinkFactory(
        campaign=campaign, state=BacklinkState.ERROR, canonical_url="https://c.example/"
    )
    BacklinkFactory(campaign=campaign, state=BacklinkState.UNREACHABLE, robots_txt_blocked=True)
    BacklinkFactory(campaign=campaign, state=BacklinkState.PENDING)
    response = signed_in.get(list_url(campaign), query)
    assert {b.state for b in response.context["page"].object_list} == expected


def test_htmx_filter_gets_the_table_only(signed_in, campaign):
    BacklinkFactory(campaign=campaign)
    response = signed_in.get(list_url(campaign), {"state": "live"}, headers=htmx("backlink-table"))
    assert response.content.lstrip().startswith(b'<div id="backlink-table"')


def test_empty_list_says_how_links_arrive(signed_in, campaign):
    content = signed_in.get(list_url(campaign)).content.decode()
    assert "No backlinks yet" in content
    assert "Mark won" in content


def test_list_shows_each_links_placement_kind_and_rel(signed_in, campaign):
    BacklinkFactory(
        campaign=campaign,
        source_url="https://footer.example/",
        state=BacklinkState.NOFOLLOW,
        placement="footer",
        link_kind="image",
        link_rel="nofollow sponsored",
    )
    BacklinkFactory(
        campaign=campaign,
        source_url="https://article.example/",
        state=BacklinkState.LIVE,
        placement="content",
        link_kind="text",
    )
    BacklinkFactory(campaign=campaign, source_url="https://unchecked.example/")
    content = signed_in.get(list_url(campaign)).content.decode()
    rows = {
        domain: content[content.index(f"<strong>{domain}</strong>") :].split("</tr>")[0]
        for domain in ("footer.example", "article.example", "unchecked.example")
    }
    assert ">Footer</span>" in rows["footer.example"]
    assert 'class="badge placement-boilerplate"' in rows["footer.example"]
    assert ">Image</span>" in rows["footer.example"]
    assert ">nofollow</span>" in rows["footer.example"]
    assert ">sponsored</span>" in rows["footer.example"]
    assert 'class="badge placement-content"' in rows["article.example"]
    assert ">Text</span>" in rows["article.example"]
    assert 'class="badge rel"' not in rows["article.example"]
    assert "placement-" not in rows["unchecked.example"]


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(
    signed_in, campaign, member, rows, django_assert_max_num_queries
):
    BacklinkFactory.create_batch(
        rows, campaign=campaign, won_by=member, placement="sidebar", link_kind="image"
    )
    with django_assert_max_num_queries(7):
        response = signed_in.get(list_url(campaign))
    assert len(response.context["page"].object_list) == rows


def test_the_unfiltered_list_counts_from_the_kept_counts_not_the_rows(signed_in, campaign):
    BacklinkFactory.create_batch(3, campaign=campaign, state=BacklinkState.LIVE)
    BacklinkFactory(campaign=campaign, state=BacklinkState.LOST, lost_at=timezone.now())
    BacklinkFactory(campaign=CampaignFactory())  # another campaign's
    Backlink.objects.filter(campaign=campaign, state=BacklinkState.LOST).update(placement="content")

    with CaptureQueriesContext(connection) as captured:
        response = signed_in.get(list_url(campaign))
    assert response.context["page"].paginator.count == 4
    assert "4 backlinks." in response.content.decode()
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert not [sql for sql in counts if 'FROM "links_backlink"' in sql]

    for query in ({"state": "lost"}, {"placement": "content"}):
        filtered = signed_in.get(list_url(campaign), query)
        assert filtered.context["page"].paginator.count == 1, query
        assert "1 backlink match these filters" in filtered.content.decode()
    ordered = signed_in.get(list_url(campaign), {"sort": "domain"})
    assert ordered.context["page"].paginator.count == 4


# --- detail and check history ---------------------------------------------------------


def test_detail_shows_the_check_history_newest_first(signed_in, campaign):
    backlink = BacklinkFactory(campaign=campaign)
    now = timezone.now()
    LinkCheckFactory(
        backlink=backlink,
        checked_at=now - timedelta(days=2),
        verdict="live",
        anchors=[{"href": backlink.target_url, "text": "our guide", "rel": [], "dofollow": True}],
        snippet='<p>see <a href="https://x/">our guide</a></p>',
    )
    LinkCheckFactory(
        backlink=backlink,
        checked_at=now - timedelta(days=1),
        verdict="error",
        http_status=503,
        error="HTTP 503 from the server",
        differences=["anchor text changed"],
    )
    content = signed_in.get(
        reverse("links:backlink_detail", args=[campaign.slug, backlink.pk])
    ).content.decode()
    assert content.index("HTTP 503 from the server") < content.index("1 matching anchor found")
    assert "anchor text changed" in content
    assert "&lt;a href=&quot;https://x/&quot;&gt;our guide&lt;/a&gt;" in content  # escaped


@pytest.mark.parametrize("checks", [2, 60])
def test_detail_query_count_does_not_grow_with_history(
    signed_in, campaign, checks, django_assert_max_num_queries
):
    backlink = BacklinkFactory(campaign=campaign, prospect=ProspectFactory(campaign=campaign))
    LinkCheckFactory.create_batch(checks, backlink=backlink)
    with django_assert_max_num_queries(8):
        response = signed_in.get(
            reverse("links:backlink_detail", args=[campaign.slug, backlink.pk])
        )
    assert len(response.context["checks"].object_list) == min(checks, 20)


def test_check_history_reloads_as_a_fragment(signed_in, campaign):
    backlink = BacklinkFactory(campaign=campaign)
    response = signed_in.get(
        reverse("links:backlink_detail", args=[campaign.slug, backlink.pk]),
        headers=htmx("check-history"),
    )
    assert response.content.lstrip().startswith(b'<section id="check-history"')


def test_a_backlink_held_by_a_check_says_it_is_being_checked(signed_in, campaign):
    now = timezone.now()
    backlink = BacklinkFactory(campaign=campaign, next_check_at=now - timedelta(minutes=3))
    url = reverse("links:backlink_detail", args=[campaign.slug, backlink.pk])
    assert "being checked now" not in signed_in.get(url).content.decode()
    Backlink.objects.filter(pk=backlink.pk).update(lease_until=now + timedelta(minutes=10))
    assert "being checked now" in signed_in.get(url).content.decode()


# --- re-check now ---------------------------------------------------------------------


def test_recheck_requests_a_check_and_returns_a_polling_row(
    signed_in, campaign, django_capture_on_commit_callbacks
):
    backlink = BacklinkFactory(campaign=campaign, next_check_at=timezone.now() + timedelta(days=3))
    url = reverse("links:backlink_recheck", args=[campaign.slug, backlink.pk])
    with django_capture_on_commit_callbacks() as queued:
        response = signed_in.post(url, headers=htmx(f"backlink-{backlink.pk}"))
    content = response.content.decode()
    assert f'hx-get="{row_url(backlink)}" hx-trigger="every 2s"' in content
    assert "Checking…" in content
    backlink.refresh_from_db()
    assert backlink.check_requested_at is not None
    assert len(queued) == 1  # the check task


def test_recheck_without_htmx_redirects_to_the_backlink(signed_in, campaign):
    backlink = BacklinkFactory(campaign=campaign)
    response = signed_in.post(reverse("links:backlink_recheck", args=[campaign.slug, backlink.pk]))
    assert response["Location"] == reverse(
        "links:backlink_detail", args=[campaign.slug, backlink.pk]
    )


def test_row_keeps_polling_while_the_check_is_queued(signed_in, campaign):
    backlink = BacklinkFactory(
        campaign=campaign, check_requested_at=timezone.now() - timedelta(seconds=5)
    )
    response = signed_in.get(row_url(backlink), headers=htmx(f"backlink-{backlink.pk}"))
    assert b'hx-trigger="every 2s"' in response.content
    assert "HX-Trigger" not in response


def test_row_stops_polling_with_the_result(signed_in, campaign):
    requested = timezone.now() - timedelta(seconds=5)
    backlink = BacklinkFactory(
        campaign=campaign,
        state=BacklinkState.NOFOLLOW,
        check_requested_at=requested,
        last_checked_at=requested + timedelta(seconds=3),
    )
    response = signed_in.get(row_url(backlink), headers=htmx(f"backlink-{backlink.pk}"))
    content = response.content.decode()
    assert "hx-trigger" not in content
    assert "verdict-nofollow" in content
    assert "backlink-checked" in json.loads(response["HX-Trigger"])  # history reloads itself


def test_row_gives_up_after_60_seconds(signed_in, campaign):
    backlink = BacklinkFactory(
        campaign=campaign, check_requested_at=timezone.now() - timedelta(seconds=61)
    )
    response = signed_in.get(row_url(backlink), headers=htmx(f"backlink-{backlink.pk}"))
    content = response.content.decode()
    assert "hx-trigger" not in content
    assert "No result after 60 s — the check is still queued; reload later." in content
    assert "Re-check now" in content


# --- mark won -------------------------------------------------------------------------


def won_url(prospect) -> str:
    return reverse("links:mark_won", args=[prospect.campaign.slug, prospect.pk])


def test_mark_won_form_is_prefilled_for_a_broken_link(signed_in, campaign):
    offered = TargetPageFactory(campaign=campaign)
    TargetPageFactory(campaign=campaign)
    prospect = ProspectFactory(
        campaign=campaign,
        kind=Kind.BROKEN_LINK,
        dead_url="https://gone.example/old",
        offered_target=offered,
    )
    response = signed_in.get(won_url(prospect), headers=htmx("won-form"))
    form = response.context["form"]
    assert form.initial["source_url"] == prospect.url
    assert form.initial["target_page"] == offered.pk
    assert response.content.lstrip().startswith(b'<div id="won-form">')
    assert f'<option value="{offered.pk}" selected>'.encode() in response.content


def test_mark_won_form_prefills_a_guest_post_fee(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign, kind=Kind.GUEST_POST, fee="80.00")
    response = signed_in.get(won_url(prospect))
    assert str(response.context["form"].initial["cost"]) == "80.00"
    assert b"<html" in response.content  # without htmx, a whole page


def test_mark_won_creates_the_backlink_and_goes_to_the_list(signed_in, campaign, member):
    target = TargetPageFactory(campaign=campaign)
    prospect = ProspectFactory(campaign=campaign, status=Status.NEGOTIATING)
    data = {
        "source_url": prospect.url,
        "target_page": target.pk,
        "anchor_text": "trail guide",
        "cost": "25",
        "won_on": timezone.localdate().isoformat(),
    }
    response = signed_in.post(won_url(prospect), data, headers=htmx("won-form"))
    assert response["HX-Redirect"] == list_url(campaign)
    backlink = Backlink.objects.get(prospect=prospect)
    assert (backlink.target_page, backlink.won_by) == (target, member)
    prospect.refresh_from_db()
    assert prospect.status == Status.WON
    listing = signed_in.get(list_url(campaign)).content.decode()
    assert prospect.domain in listing
    assert "first check queued" in listing


def test_mark_won_shows_errors_in_the_form(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    data = {"source_url": "not a url", "won_on": timezone.localdate().isoformat()}
    response = signed_in.post(won_url(prospect), data, headers=htmx("won-form"))
    content = response.content.decode()
    assert "Choose the target page, or enter the linked URL." in content
    data["target_url"] = "https://ours.example/"
    response = signed_in.post(won_url(prospect), data, headers=htmx("won-form"))
    assert "Not a usable URL" in response.content.decode()
    assert not Backlink.objects.exists()


def test_mark_won_refuses_a_target_page_of_another_campaign(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    foreign = TargetPageFactory(campaign=CampaignFactory())
    data = {
        "source_url": prospect.url,
        "target_page": foreign.pk,
        "won_on": timezone.localdate().isoformat(),
    }
    response = signed_in.post(won_url(prospect), data)
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not Backlink.objects.exists()


# --- alerts ---------------------------------------------------------------------------


def test_alert_list_shows_unread_alerts_of_visible_campaigns_only(
    signed_in, campaign, other_campaign
):
    AlertFactory(campaign=campaign, message="ours unread")
    AlertFactory(campaign=campaign, message="ours read", read_at=timezone.now())
    AlertFactory(campaign=other_campaign, message="theirs")
    unread = signed_in.get(reverse("links:alert_list")).content.decode()
    assert "ours unread" in unread
    assert "ours read" not in unread
    assert "theirs" not in unread
    everything = signed_in.get(reverse("links:alert_list"), {"show": "all"}).content.decode()
    assert "ours read" in everything
    assert "theirs" not in everything


def test_nav_shows_the_unread_count(signed_in, campaign):
    AlertFactory.create_batch(2, campaign=campaign)
    content = signed_in.get(reverse("links:alert_list")).content.decode()
    assert (
        '<span id="nav-alert-count" class="count">2<span class="sr-only"> unread</span>' in content
    )


def test_nav_prints_a_backlog_past_99_unread_as_99_plus(signed_in, campaign):
    AlertFactory.create_batch(99, campaign=campaign)
    content = signed_in.get(reverse("links:alert_list")).content.decode()
    assert '<span id="nav-alert-count" class="count">99<span' in content
    AlertFactory(campaign=campaign)
    content = signed_in.get(reverse("links:alert_list")).content.decode()
    assert '<span id="nav-alert-count" class="count">99+<span' in content


@pytest.mark.parametrize("rows", [3, 30])
def test_alert_list_query_count_does_not_grow(
    signed_in, campaign, rows, django_assert_max_num_queries
):
    for backlink in BacklinkFactory.create_batch(rows, campaign=campaign):
        AlertFactory(campaign=campaign, backlink=backlink)
    with django_assert_max_num_queries(6):
        response = signed_in.get(reverse("links:alert_list"))
    assert len(response.context["page"].object_list) == rows


def test_mark_read_via_htmx_updates_the_row_and_the_nav_count(signed_in, campaign, member):
    alert, _ = AlertFactory.create_batch(2, campaign=campaign)
    url = reverse("links:alert_read", args=[alert.pk])
    response = signed_in.post(url, headers=htmx(f"alert-{alert.pk}"))
    content = response.content.decode()
    assert "Read by member" in content
    assert '<span id="nav-alert-count" class="count" hx-swap-oob="true">1' in content
    alert.refresh_from_db()
    assert alert.read_by == member


def test_mark_read_of_another_campaigns_alert_is_404(signed_in, other_campaign):
    theirs = AlertFactory(campaign=other_campaign)
    assert signed_in.post(reverse("links:alert_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_only_what_the_user_can_see(signed_in, campaign, other_campaign):
    AlertFactory.create_batch(2, campaign=campaign)
    AlertFactory(campaign=other_campaign)
    response = signed_in.post(reverse("links:alert_read_all"), follow=True)
    assert b"Marked 2 alerts read." in response.content
    assert b"No unread alerts" in response.content
    assert Alert.objects.filter(read_at__isnull=True).count() == 1


# --- my day and home --------------------------------------------------------------------


def test_my_day_lists_follow_ups_deadlines_and_alerts(signed_in, campaign, member):
    today = timezone.localdate()
    ProspectFactory(
        campaign=campaign,
        url="https://overdue.example/",
        assignee=member,
        next_follow_up=today - timedelta(days=2),
    )
    ProspectFactory(
        campaign=campaign,
        url="https://later.example/",
        assignee=member,
        next_follow_up=today + timedelta(days=2),
    )
    ProspectFactory(
        campaign=campaign,
        kind=Kind.HARO,
        outlet="Health Desk",
        deadline=timezone.now() + timedelta(hours=30),
    )
    AlertFactory(campaign=campaign, message="Link lost: https://source.example/")
    content = signed_in.get(reverse("links:my_day")).content.decode()
    assert "overdue.example" in content
    assert "· overdue" in content
    assert "later.example" not in content
    assert "Health Desk" in content
    assert "Link lost: https://source.example/" in content


def test_my_day_empty_states(signed_in, campaign):
    content = signed_in.get(reverse("links:my_day")).content.decode()
    assert "No follow-ups due" in content
    assert "No HARO query closes in the next 48 hours" in content
    assert "No new alerts" in content


@pytest.mark.parametrize("rows", [2, 25])
def test_my_day_query_count_does_not_grow(
    signed_in, campaign, member, rows, django_assert_max_num_queries
):
    today = timezone.localdate()
    soon = timezone.now() + timedelta(hours=5)
    for _ in range(rows):
        ProspectFactory(campaign=campaign, assignee=member, next_follow_up=today)
        ProspectFactory(campaign=campaign, kind=Kind.HARO, deadline=soon, assignee=member)
        AlertFactory(campaign=campaign, backlink=BacklinkFactory(campaign=campaign))
    with django_assert_max_num_queries(10):
        response = signed_in.get(reverse("links:my_day"))
    assert response.context["follow_ups"].paginator.count == rows


@pytest.mark.parametrize(
    ("role", "landing"), [(Role.MEMBER, "links:my_day"), (Role.MANAGER, "campaigns:list")]
)
def test_home_sends_members_to_their_day_and_managers_to_campaigns(db, client, role, landing):
    client.force_login(UserFactory(role=role))
    response = client.get(reverse("home"))
    assert response["Location"] == reverse(landing)


def test_login_lands_a_member_on_my_day(client, member):
    response = client.post(
        reverse("login"), {"username": member.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("links:my_day")
