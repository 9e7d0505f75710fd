from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach.models import Kind, OutreachActivity, Prospect, Status, StatusChange
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    ProspectFactory,
    StatusChangeFactory,
    TagFactory,
    UserFactory,
)

HTMX = {"HX-Request": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target}


def list_url(campaign) -> str:
    return reverse("outreach:prospect_list", args=[campaign.slug])


# --- the table --------------------------------------------------------------------


def test_list_shows_the_filtered_rows(signed_in, campaign):
    ProspectFactory(campaign=campaign, url="https://haro-site.example/", kind=Kind.HARO)
    ProspectFactory(campaign=campaign, url="https://blogger-site.example/", kind=Kind.BLOGGER)
    response = signed_in.get(list_url(campaign), {"kind": "haro"})
    assert response.status_code == 200
    assert b"haro-site.example" in response.content
    assert b"blogger-site.example" not in response.content
    assert b'<form id="prospect-filters"' in response.content  # the whole page


def test_htmx_filter_request_gets_only_the_table(signed_in, campaign):
    ProspectFactory(campaign=campaign)
    response = signed_in.get(list_url(campaign), headers=htmx("prospect-table"))
    assert response.content.lstrip().startswith(b'<div id="prospect-table"')
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(signed_in, campaign):
    headers = {**htmx("prospect-table"), "HX-History-Restore-Request": "true"}
    response = signed_in.get(list_url(campaign), headers=headers)
    assert b"<html" in response.content


def test_empty_states_say_what_to_do(signed_in, campaign):
    response = signed_in.get(list_url(campaign))
    assert b"No prospects in this campaign yet" in response.content
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER)
    response = signed_in.get(list_url(campaign), {"kind": "haro"})
    assert b"No prospects match these filters" in response.content


def test_invalid_filter_value_shows_an_error(signed_in, campaign):
    response = signed_in.get(list_url(campaign), {"dr_min": "70", "dr_max": "10"})
    assert "Must not be below “DR from”".encode() in response.content


def test_pagination_keeps_the_filters(signed_in, campaign):
    ProspectFactory.create_batch(51, campaign=campaign, kind=Kind.HARO)
    response = signed_in.get(list_url(campaign), {"kind": "haro"})
    assert b"Page 1 of 2" in response.content
    assert b"kind=haro&amp;page=2" in response.content
    second = signed_in.get(list_url(campaign), {"kind": "haro", "page": "2"})
    assert len(second.context["page"].object_list) == 1


def test_sort_headers_toggle_direction(signed_in, campaign):
    ProspectFactory(campaign=campaign)
    response = signed_in.get(list_url(campaign), {"sort": "domain"})
    headers = response.context["headers"]
    assert headers["domain"] == {"url": "?sort=-domain", "aria_sort": "ascending"}
    assert headers["dr"]["url"] == "?sort=-dr"  # numbers: largest first
    assert headers["dr"]["aria_sort"] == "none"


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(
    signed_in, campaign, member, rows, django_assert_max_num_queries
):
    tag = TagFactory(campaign=campaign)
    for prospect in ProspectFactory.create_batch(rows, campaign=campaign, assignee=member):
        prospect.tags.add(tag)
        StatusChangeFactory(prospect=prospect, changed_by=member)
    # +2 for the bulk bar's email templates and mailboxes
    with django_assert_max_num_queries(12):
        response = signed_in.get(list_url(campaign), {"q": "example", "sort": "-dr"})
    assert len(response.context["page"].object_list) == rows


def test_the_unfiltered_list_counts_from_the_kept_counts_not_the_rows(signed_in, campaign):
    ProspectFactory.create_batch(3, campaign=campaign, kind=Kind.BLOGGER)
    ProspectFactory(campaign=campaign, kind=Kind.HARO)
    ProspectFactory(campaign=CampaignFactory())  # another campaign's

    with CaptureQueriesContext(connection) as captured:
        response = signed_in.get(list_url(campaign))
    assert response.context["page"].paginator.count == 4
    assert "4 prospects." in response.content.decode()
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert not [sql for sql in counts if 'FROM "outreach_prospect"' in sql]

    filtered = signed_in.get(list_url(campaign), {"kind": "haro"})
    assert filtered.context["page"].paginator.count == 1
    assert "1 prospect match these filters" in filtered.content.decode()
    ordered = signed_in.get(list_url(campaign), {"sort": "domain"})
    assert ordered.context["page"].paginator.count == 4


def test_each_rows_status_menu_selects_that_rows_status(signed_in, campaign):
    """The menus are remembered per status: the second row's must not come back
    with the first row's choice selected."""
    ProspectFactory(campaign=campaign, url="https://first.example/", status=Status.CONTACTED)
    ProspectFactory(campaign=campaign, url="https://second.example/", status=Status.WON)
    content = signed_in.get(list_url(campaign)).content.decode()
    menus = re.findall(r'<select name="status" id="status-\d+".*?</select>', content, re.DOTALL)
    selected = [re.findall(r'value="(\w+)" selected', menu) for menu in menus]
    assert sorted(selected) == [["contacted"], ["won"]]


def test_row_ids_are_not_localized_when_thousand_separators_are_on(signed_in, campaign, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    ProspectFactory(campaign=campaign, pk=12345, domain_rating=42)
    content = signed_in.get(list_url(campaign)).content.decode()
    assert '<tr id="prospect-12345">' in content
    assert 'value="12345"' in content
    assert f"/campaigns/{campaign.slug}/prospects/12345/status/" in content
    assert "12,345" not in content


# --- inline status ------------------------------------------------------------------


def test_inline_status_change_rerenders_the_row_and_records_history(signed_in, campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    url = reverse("outreach:prospect_status", args=[campaign.slug, prospect.pk])
    response = signed_in.post(url, {"status": "contacted"}, headers=htmx(f"prospect-{prospect.pk}"))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="prospect-{prospect.pk}"')
    assert '<option value="contacted" selected>' in content
    assert "member · now" in content  # who changed it, shown in the row
    change = StatusChange.objects.get(prospect=prospect)
    assert (change.from_status, change.to_status, change.changed_by) == ("new", "contacted", member)


def test_status_change_on_the_detail_page_updates_the_timeline_too(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    url = reverse("outreach:prospect_status", args=[campaign.slug, prospect.pk])
    response = signed_in.post(url, {"status": "qualified"}, headers=htmx("prospect-status"))
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="prospect-status">')
    assert 'id="prospect-timeline"' in content
    assert 'hx-swap-oob="true"' in content
    assert "Qualified" in content


def test_bad_status_is_reported_in_the_row(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    url = reverse("outreach:prospect_status", args=[campaign.slug, prospect.pk])
    response = signed_in.post(url, {"status": "limbo"}, headers=htmx(f"prospect-{prospect.pk}"))
    assert b"Choose one of the listed statuses" in response.content
    assert not StatusChange.objects.exists()


def test_status_change_without_htmx_redirects_back(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    url = reverse("outreach:prospect_status", args=[campaign.slug, prospect.pk])
    back = list_url(campaign) + "?kind=haro"
    response = signed_in.post(url, {"status": "contacted", "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    evil = signed_in.post(url, {"status": "replied", "next": "https://evil.example/"})
    assert evil["Location"] == reverse(
        "outreach:prospect_detail", args=[campaign.slug, prospect.pk]
    )


def test_status_of_another_campaigns_prospect_is_404(signed_in, campaign, other_campaign):
    theirs = ProspectFactory(campaign=other_campaign)
    # Right campaign in the URL, wrong prospect: still not found.
    url = reverse("outreach:prospect_status", args=[campaign.slug, theirs.pk])
    assert signed_in.post(url, {"status": "won"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.NEW


# --- bulk -------------------------------------------------------------------------


def bulk(client, campaign, ids, action, value, *, query="", headers=None):
    data = {"bulk-ids": [str(i) for i in ids], "bulk-action": action, "query": query}
    field = {"assign": "assignee", "status": "status", "tag": "tag"}[action]
    data[f"bulk-{field}"] = value
    url = reverse("outreach:prospect_bulk", args=[campaign.slug])
    return client.post(url, data, headers=headers or {})


def test_bulk_status_change_via_htmx_rerenders_the_filtered_table(signed_in, campaign, member):
    chosen = ProspectFactory.create_batch(2, campaign=campaign, kind=Kind.HARO)
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, url="https://blogger-x.example/")
    response = bulk(
        signed_in,
        campaign,
        [p.pk for p in chosen],
        "status",
        "qualified",
        query="kind=haro",
        headers=htmx("prospect-table"),
    )
    assert response.status_code == 200
    assert "Moved 2 prospects to “Qualified”".encode() in response.content
    assert b"blogger-x.example" not in response.content  # still filtered
    assert StatusChange.objects.filter(to_status="qualified", changed_by=member).count() == 2


def test_bulk_assign_and_tag(signed_in, campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    response = bulk(signed_in, campaign, [prospect.pk], "assign", str(member.pk))
    assert response.status_code == 302
    bulk(signed_in, campaign, [prospect.pk], "tag", "tier-1")
    prospect.refresh_from_db()
    assert prospect.assignee == member
    assert [t.name for t in prospect.tags.all()] == ["tier-1"]


def test_bulk_assign_to_someone_off_the_campaign_is_refused(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    outsider = UserFactory()
    response = bulk(
        signed_in,
        campaign,
        [prospect.pk],
        "assign",
        str(outsider.pk),
        headers=htmx("prospect-table"),
    )
    assert b"not on this campaign" in response.content
    prospect.refresh_from_db()
    assert prospect.assignee is None


def test_bulk_without_a_selection_says_so(signed_in, campaign):
    ProspectFactory(campaign=campaign)
    response = bulk(signed_in, campaign, [], "status", "won", headers=htmx("prospect-table"))
    assert b"Tick at least one prospect first" in response.content


# --- prospect page ------------------------------------------------------------------


def detail_url(prospect) -> str:
    return reverse("outreach:prospect_detail", args=[prospect.campaign.slug, prospect.pk])


def test_detail_shows_kind_specific_fields(signed_in, campaign):
    haro = ProspectFactory(
        campaign=campaign,
        kind=Kind.HARO,
        outlet="Runner's Weekly",
        query_text="Experts on trail shoes?",
        deadline=timezone.now() + timedelta(hours=20),
    )
    content = signed_in.get(detail_url(haro)).content.decode()
    assert "HARO query" in content
    assert "Runner&#x27;s Weekly" in content
    assert "Experts on trail shoes?" in content
    guest = ProspectFactory(campaign=campaign, kind=Kind.GUEST_POST, fee="120.00")
    assert b"120.00" in signed_in.get(detail_url(guest)).content


def test_log_activity_via_htmx_updates_form_timeline_and_follow_up(signed_in, campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    day = timezone.localdate() + timedelta(days=3)
    url = reverse("outreach:prospect_activity", args=[campaign.slug, prospect.pk])
    response = signed_in.post(
        url,
        {"kind": "email_sent", "summary": "Sent the pitch", "next_follow_up": day.isoformat()},
        headers=htmx("activity-form"),
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="activity-form"')
    assert "Logged: Email sent" in content
    assert "Sent the pitch" in content  # in the out-of-band timeline
    assert '<span id="prospect-follow-up" hx-swap-oob="true">' in content
    activity = OutreachActivity.objects.get(prospect=prospect)
    assert (activity.kind, activity.user, activity.summary) == (
        "email_sent",
        member,
        "Sent the pitch",
    )
    prospect.refresh_from_db()
    assert prospect.next_follow_up == day


def test_log_activity_errors_are_shown(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    url = reverse("outreach:prospect_activity", args=[campaign.slug, prospect.pk])
    data = {"kind": "note", "next_follow_up": "2030-01-01", "clear_follow_up": "on"}
    response = signed_in.post(url, data, headers=htmx("activity-form"))
    assert b"Either set a follow-up date or clear it" in response.content
    assert not OutreachActivity.objects.exists()
    page = signed_in.post(url, {"kind": "carrier pigeon"})
    assert page.status_code == 400
    assert b"Select a valid choice" in page.content


def test_log_activity_without_htmx_redirects_to_the_prospect(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign, next_follow_up=timezone.localdate())
    url = reverse("outreach:prospect_activity", args=[campaign.slug, prospect.pk])
    response = signed_in.post(url, {"kind": "reply", "clear_follow_up": "on"})
    assert response["Location"] == detail_url(prospect)
    prospect.refresh_from_db()
    assert prospect.next_follow_up is None


def test_timeline_pages_via_htmx(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    ActivityFactory.create_batch(30, prospect=prospect)
    response = signed_in.get(
        detail_url(prospect), {"timeline_page": "2"}, headers=htmx("prospect-timeline")
    )
    assert response.content.lstrip().startswith(b'<section id="prospect-timeline"')
    assert response.context["timeline"].number == 2


@pytest.mark.parametrize("entries", [2, 40])
def test_detail_query_count_does_not_grow_with_history(
    signed_in, campaign, member, entries, django_assert_max_num_queries
):
    prospect = ProspectFactory(campaign=campaign, assignee=member)
    prospect.tags.add(TagFactory(campaign=campaign))
    ActivityFactory.create_batch(entries, prospect=prospect, user=member)
    StatusChangeFactory.create_batch(entries, prospect=prospect, changed_by=member)
    # +3 for the email panel: templates, mailboxes, sequences (with emails: email/test_views.py)
    with django_assert_max_num_queries(12):
        response = signed_in.get(detail_url(prospect))
    assert response.status_code == 200


def test_prospect_of_another_campaign_is_404_even_under_our_slug(
    signed_in, campaign, other_campaign
):
    theirs = ProspectFactory(campaign=other_campaign)
    url = reverse("outreach:prospect_detail", args=[campaign.slug, theirs.pk])
    assert signed_in.get(url).status_code == 404
    assert Prospect.objects.filter(pk=theirs.pk).exists()
