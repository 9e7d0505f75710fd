"""What the endpoints do: the page's services behind them (history rows, the
first check queued, the re-check budget), the import engine's per-row errors,
one error body, cursor pages, ETags, and a pinned number of queries per list."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from links.models import Backlink
from outreach.models import Prospect, StatusChange
from tests.factories import (
    AlertFactory,
    BacklinkFactory,
    LinkCheckFactory,
    ProspectFactory,
    TagFactory,
    TargetPageFactory,
)

pytestmark = pytest.mark.django_db

TASK = b"links.tasks.check_backlinks"


def test_a_status_change_is_kept_in_the_history(api_member, member, campaign):
    prospect = ProspectFactory(campaign=campaign)
    response = api_member.post(
        f"/api/v1/prospects/{prospect.pk}/status/", {"status": "contacted"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "contacted"
    change = StatusChange.objects.get(prospect=prospect)
    assert (change.from_status, change.to_status, change.changed_by) == ("new", "contacted", member)
    history = api_member.get(f"/api/v1/prospects/{prospect.pk}/history/").json()
    assert history[0]["to_status"] == "contacted"
    assert history[0]["changed_by"] == "member"


def test_a_bad_status_is_a_field_error(api_member, campaign):
    prospect = ProspectFactory(campaign=campaign)
    response = api_member.post(
        f"/api/v1/prospects/{prospect.pk}/status/", {"status": "famous"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    assert "status" in response.json()["errors"]


def test_a_created_prospect_gets_its_first_history_row(api_member, member, campaign):
    response = api_member.post(
        "/api/v1/prospects/",
        {"campaign": campaign.pk, "kind": "blogger", "url": "HTTPS://WWW.Fresh.example/post"},
        format="json",
    )
    assert response.status_code == 201, response.content
    prospect = Prospect.objects.get(pk=response.json()["id"])
    assert prospect.domain == "fresh.example"
    assert StatusChange.objects.filter(
        prospect=prospect, to_status="new", changed_by=member
    ).exists()


def test_a_duplicate_prospect_is_a_field_error_not_a_500(api_member, campaign):
    ProspectFactory(campaign=campaign, url="https://dup.example/post/")
    response = api_member.post(
        "/api/v1/prospects/",
        {"campaign": campaign.pk, "kind": "blogger", "url": "https://www.dup.example/post"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]


def test_an_update_keeps_the_status_out_of_reach(api_member, campaign):
    prospect = ProspectFactory(campaign=campaign)
    response = api_member.patch(
        f"/api/v1/prospects/{prospect.pk}/",
        {"notes": "spoke to Sam", "status": "won", "domain_rating": 55},
        format="json",
    )
    assert response.status_code == 200
    prospect.refresh_from_db()
    assert (prospect.notes, prospect.status, prospect.domain_rating) == ("spoke to Sam", "new", 55)


def test_bulk_create_goes_through_the_import_engine_with_per_row_errors(api_admin, campaign):
    ProspectFactory(campaign=campaign, url="https://known.example/")
    response = api_admin.post(
        "/api/v1/prospects/bulk/",
        {
            "campaign": campaign.pk,
            "rows": [
                {"url": "https://one.example/a", "contact_email": "a@one.example", "tags": "tech"},
                {"url": "not a url at all", "domain_rating": "150"},
                {"domain": "two.example", "kind": "Guest post"},
                {"url": "https://known.example/"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows"], body["created"], body["rejected"], body["duplicates"]) == (4, 2, 1, 1)
    assert body["rejections"][0]["row"] == 2
    assert set(body["rejections"][0]["errors"]) >= {"url"}
    assert Prospect.objects.filter(
        campaign=campaign, domain="two.example", kind="guest_post"
    ).exists()
    assert StatusChange.objects.filter(prospect__domain="one.example").exists()


def test_bulk_refuses_unknown_fields_and_too_many_rows(api_admin, campaign, settings):
    response = api_admin.post(
        "/api/v1/prospects/bulk/",
        {"campaign": campaign.pk, "rows": [{"url": "https://a.example/", "colour": "red"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "colour" in response.json()["errors"]["rows"][0]
    settings.API_BULK_MAX_ROWS = 2
    response = api_admin.post(
        "/api/v1/prospects/bulk/",
        {"campaign": campaign.pk, "rows": [{"url": f"https://{n}.example/"} for n in "abc"]},
        format="json",
    )
    assert response.status_code == 400
    assert not Prospect.objects.filter(campaign=campaign).exists()


@pytest.mark.django_db(transaction=True)
def test_a_created_backlink_marks_the_prospect_won_and_queues_its_first_check(
    api_member, campaign, queue
):
    prospect = ProspectFactory(campaign=campaign, status="negotiating")
    page = TargetPageFactory(campaign=campaign, url="https://ours.example/guide/")
    response = api_member.post(
        "/api/v1/backlinks/",
        {
            "prospect": prospect.pk,
            "source_url": "https://blog.example/review/",
            "target_page": page.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    backlink = Backlink.objects.get(pk=response.json()["id"])
    assert backlink.target_url == "https://ours.example/guide/"
    prospect.refresh_from_db()
    assert prospect.status == "won"
    assert sum(TASK in raw for raw in queue.lrange("celery", 0, -1)) == 1


def test_the_backlink_detail_has_its_check_history(api_member, campaign):
    backlink = BacklinkFactory(campaign=campaign)
    LinkCheckFactory(backlink=backlink, verdict="live")
    LinkCheckFactory(backlink=backlink, verdict="missing", http_status=200)
    body = api_member.get(f"/api/v1/backlinks/{backlink.pk}/").json()
    assert [c["verdict"] for c in body["checks"]] == ["missing", "live"]


@pytest.mark.django_db(transaction=True)
def test_recheck_spends_the_same_budget_as_the_button(api_member, client, member, campaign, queue):
    backlink = BacklinkFactory(campaign=campaign)
    url = f"/api/v1/backlinks/{backlink.pk}/recheck/"
    assert api_member.post(url).status_code == 202
    refused = api_member.post(url)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "re-checked once every" in refused.json()["detail"]
    # The button sees the same per-link budget.
    client.force_login(member)
    page = client.post(reverse("links:backlink_recheck", args=[campaign.slug, backlink.pk]))
    assert page.status_code == 429
    assert sum(TASK in raw for raw in queue.lrange("celery", 0, -1)) == 1


@pytest.mark.django_db(transaction=True)
def test_recheck_counts_against_the_member_s_hourly_budget(api_member, campaign, queue, settings):
    settings.RECHECK_PER_USER_PER_HOUR = 2
    links = [BacklinkFactory(campaign=campaign) for _ in range(3)]
    codes = [api_member.post(f"/api/v1/backlinks/{b.pk}/recheck/").status_code for b in links]
    assert codes == [202, 202, 429]


def test_an_alert_is_marked_read(api_member, member, campaign):
    alert = AlertFactory(campaign=campaign)
    assert [a["id"] for a in api_member.get("/api/v1/alerts/?unread=1").json()["results"]] == [
        alert.pk
    ]
    body = api_member.post(f"/api/v1/alerts/{alert.pk}/read/").json()
    assert body["read_by"] == "member"
    assert body["read_at"]
    assert api_member.get("/api/v1/alerts/?unread=1").json()["results"] == []


def test_target_page_writes_validate_like_the_model(api_manager, campaign):
    TargetPageFactory(campaign=campaign, url="https://ours.example/a/")
    dup = api_manager.post(
        "/api/v1/target-pages/",
        {"campaign": campaign.pk, "url": "https://www.ours.example/a"},
        format="json",
    )
    assert dup.status_code == 400
    assert "url" in dup.json()["errors"]
    bad = api_manager.post(
        "/api/v1/target-pages/",
        {"campaign": campaign.pk, "url": "https://ours.example/b/", "priority": 9},
        format="json",
    )
    assert bad.status_code == 400
    assert "priority" in bad.json()["errors"]


def test_cursor_pages_cover_every_row_once(api_member, campaign):
    made = {ProspectFactory(campaign=campaign).pk for _ in range(7)}
    seen: list[int] = []
    url = "/api/v1/prospects/?page_size=3&sort=status"
    while url:
        body = api_member.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(made)
    assert api_member.get("/api/v1/prospects/?cursor=forged").status_code == 400


def test_lists_answer_304_to_a_current_etag(api_member, campaign):
    ProspectFactory(campaign=campaign)
    first = api_member.get("/api/v1/prospects/")
    tag = first["ETag"]
    again = api_member.get("/api/v1/prospects/", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    assert again["ETag"] == tag
    assert not again.content
    ProspectFactory(campaign=campaign)
    changed = api_member.get("/api/v1/prospects/", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200
    assert changed["ETag"] != tag


@pytest.mark.parametrize(
    ("path", "make", "queries"),
    [
        ("/api/v1/campaigns/", None, 3),
        ("/api/v1/target-pages/", "pages", 3),
        ("/api/v1/prospects/", "prospects", 4),
        ("/api/v1/backlinks/", "backlinks", 3),
        ("/api/v1/alerts/", "alerts", 3),
    ],
)
def test_a_list_page_costs_a_fixed_number_of_queries(
    api_member, member, campaign, django_assert_max_num_queries, path, make, queries
):
    # Authentication (token + user, last-used update) and the page itself.
    tags = [TagFactory(campaign=campaign) for _ in range(3)]
    for _ in range(30):
        if make == "pages":
            TargetPageFactory(campaign=campaign)
        elif make == "prospects":
            prospect = ProspectFactory(campaign=campaign, assignee=member)
            prospect.tags.set(random.sample(tags, 2))
        elif make == "backlinks":
            BacklinkFactory(campaign=campaign)
        elif make == "alerts":
            AlertFactory(campaign=campaign, backlink=BacklinkFactory(campaign=campaign))
    api_member.get(path)  # the token's last-used write happens on the first call only
    with django_assert_max_num_queries(queries):
        response = api_member.get(path)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 1
