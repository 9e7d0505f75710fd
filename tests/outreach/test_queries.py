from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.http import QueryDict
from django.utils import timezone

from campaigns.models import Campaign
from outreach import queries
from outreach.models import Kind, OutreachActivity, Status
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    ProspectFactory,
    StatusChangeFactory,
    TagFactory,
    UserFactory,
)


def pks(queryset) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


def matching(campaign, query: str) -> set[int]:
    return set(pks(queries.filter_prospects(campaign, QueryDict(query))))


# --- filters --------------------------------------------------------------------


def test_no_params_gives_every_prospect_of_the_campaign_only(campaign, other_campaign):
    ours = ProspectFactory.create_batch(3, campaign=campaign)
    ProspectFactory(campaign=other_campaign)
    assert matching(campaign, "") == {p.pk for p in ours}


@pytest.mark.parametrize(
    ("field", "value", "query"),
    [
        ("url", "https://trailrunner.example/shoes/", "q=TRAILRUNNER"),
        ("url", "https://www.blog.example/shoes/", "q=blog.example"),
        ("contact_name", "Jo Novak", "q=novak"),
        ("contact_email", "jo@press.example", "q=jo%40press"),
        ("notes", "Prefers short pitches", "q=short+pitch"),
    ],
)
def test_search_matches_each_column_case_insensitively(campaign, field, value, query):
    hit = ProspectFactory(campaign=campaign, **{field: value})
    ProspectFactory(campaign=campaign, notes="nothing to see")
    assert matching(campaign, query) == {hit.pk}


def test_kind_filter(campaign):
    haro = ProspectFactory(campaign=campaign, kind=Kind.HARO)
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER)
    assert matching(campaign, "kind=haro") == {haro.pk}


def test_status_filter_and_the_open_pseudo_status(campaign):
    contacted = ProspectFactory(campaign=campaign, status=Status.CONTACTED)
    new = ProspectFactory(campaign=campaign, status=Status.NEW)
    ProspectFactory(campaign=campaign, status=Status.WON)
    ProspectFactory(campaign=campaign, status=Status.LOST)
    assert matching(campaign, "status=contacted") == {contacted.pk}
    assert matching(campaign, "status=open") == {contacted.pk, new.pk}


def test_assignee_filter_by_id_and_unassigned(campaign, member):
    mine = ProspectFactory(campaign=campaign, assignee=member)
    nobodys = ProspectFactory(campaign=campaign, assignee=None)
    ProspectFactory(campaign=campaign, assignee=UserFactory())
    assert matching(campaign, f"assignee={member.pk}") == {mine.pk}
    assert matching(campaign, "assignee=none") == {nobodys.pk}


def test_domain_rating_range_is_inclusive_and_skips_unrated(campaign):
    by_dr = {dr: ProspectFactory(campaign=campaign, domain_rating=dr) for dr in (10, 30, 50, 70)}
    ProspectFactory(campaign=campaign, domain_rating=None)
    assert matching(campaign, "dr_min=30&dr_max=50") == {by_dr[30].pk, by_dr[50].pk}
    assert matching(campaign, "dr_min=60") == {by_dr[70].pk}
    assert matching(campaign, "dr_max=10") == {by_dr[10].pk}


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("due", {"overdue", "today"}),
        ("overdue", {"overdue"}),
        ("today", {"today"}),
        ("week", {"today", "in_3_days"}),
        ("none", {"no_date"}),
    ],
)
def test_follow_up_filter_options_ignore_closed_prospects(campaign, option, expected):
    today = timezone.localdate()
    rows = {
        "overdue": ProspectFactory(campaign=campaign, next_follow_up=today - timedelta(days=2)),
        "today": ProspectFactory(campaign=campaign, next_follow_up=today),
        "in_3_days": ProspectFactory(campaign=campaign, next_follow_up=today + timedelta(days=3)),
        "in_9_days": ProspectFactory(campaign=campaign, next_follow_up=today + timedelta(days=9)),
        "no_date": ProspectFactory(campaign=campaign, next_follow_up=None),
    }
    ProspectFactory(campaign=campaign, status=Status.WON, next_follow_up=today)
    ProspectFactory(campaign=campaign, status=Status.LOST, next_follow_up=None)
    assert matching(campaign, f"follow_up={option}") == {rows[name].pk for name in expected}


def test_tag_filter(campaign):
    tag = TagFactory(campaign=campaign, name="tier-1")
    tagged = ProspectFactory(campaign=campaign)
    tagged.tags.add(tag, TagFactory(campaign=campaign))
    ProspectFactory(campaign=campaign)
    assert pks(queries.filter_prospects(campaign, {"tag": str(tag.pk)})) == [tagged.pk]


def test_filters_combine(campaign, member):
    hit = ProspectFactory(
        campaign=campaign, kind=Kind.HARO, assignee=member, domain_rating=60, notes="shoes"
    )
    ProspectFactory(campaign=campaign, kind=Kind.HARO, assignee=member, domain_rating=20)
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, assignee=member, domain_rating=60)
    query = f"kind=haro&assignee={member.pk}&dr_min=50&q=shoes"
    assert matching(campaign, query) == {hit.pk}


def test_an_invalid_value_drops_only_that_filter(campaign):
    haro = ProspectFactory(campaign=campaign, kind=Kind.HARO, domain_rating=50)
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER)
    assert matching(campaign, "kind=haro&dr_min=lots&status=limbo") == {haro.pk}
    form = queries.ProspectFilterForm(QueryDict("dr_min=lots&dr_max=500"))
    form.is_valid()
    assert set(form.errors) == {"dr_min", "dr_max"}


def test_a_reversed_dr_range_is_reported_and_ignored(campaign):
    form = queries.ProspectFilterForm(QueryDict("dr_min=60&dr_max=20"))
    assert not form.is_valid()
    assert "dr_max" in form.errors
    assert "dr_max" not in form.valid_values()


def test_is_filtered_ignores_sort_and_page():
    assert not queries.ProspectFilterForm(QueryDict("sort=domain&page=3")).is_filtered
    assert queries.ProspectFilterForm(QueryDict("kind=haro")).is_filtered


# --- sorting and pagination -----------------------------------------------------


@pytest.fixture
def sortable(campaign):
    now = timezone.now()
    today = timezone.localdate()
    return {
        "a": ProspectFactory(
            campaign=campaign,
            url="https://alpha.example/",
            domain_rating=20,
            status=Status.REPLIED,
            next_follow_up=today + timedelta(days=5),
            created_at=now - timedelta(days=3),
        ),
        "b": ProspectFactory(
            campaign=campaign,
            url="https://bravo.example/",
            domain_rating=None,
            status=Status.NEW,
            next_follow_up=None,
            created_at=now - timedelta(days=1),
        ),
        "c": ProspectFactory(
            campaign=campaign,
            url="https://charlie.example/",
            domain_rating=80,
            status=Status.LOST,
            next_follow_up=today,
            created_at=now - timedelta(days=2),
        ),
    }


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", "bca"),  # newest first by default
        ("-created", "bca"),
        ("created", "acb"),
        ("domain", "abc"),
        ("-domain", "cba"),
        ("-dr", "cab"),  # unrated last either way
        ("dr", "acb"),
        ("follow_up", "cab"),
        ("-follow_up", "acb"),
        ("status", "bac"),  # pipeline order, not alphabetical
        ("-status", "cab"),
    ],
)
def test_sorting(campaign, sortable, sort, order):
    ids = pks(queries.filter_prospects(campaign, {"sort": sort}))
    assert ids == [sortable[key].pk for key in order]


def test_pages_cover_every_row_once_even_when_sort_values_tie(campaign):
    # Every row has the same DR: without the id tie-break, LIMIT/OFFSET pages may
    # repeat or skip rows.
    ProspectFactory.create_batch(23, campaign=campaign, domain_rating=40)
    prospects = queries.filter_prospects(campaign, {"sort": "-dr"})
    paginator = Paginator(prospects, 10)
    seen = [p.pk for n in paginator.page_range for p in paginator.page(n).object_list]
    assert paginator.num_pages == 3
    assert len(seen) == len(set(seen)) == 23


def test_for_table_annotates_the_last_status_change(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    earlier = timezone.now() - timedelta(days=2)
    StatusChangeFactory(prospect=prospect, changed_by=UserFactory(), changed_at=earlier)
    latest = StatusChangeFactory(
        prospect=prospect, from_status="contacted", to_status="replied", changed_by=member
    )
    row = queries.for_table(queries.filter_prospects(campaign, {})).get()
    assert (row.last_changed_by, row.last_changed_at) == ("member", latest.changed_at)


# --- timeline, my day -----------------------------------------------------------


def test_timeline_merges_activities_and_status_changes_newest_first(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    now = timezone.now()
    StatusChangeFactory(prospect=prospect, changed_at=now - timedelta(hours=3), changed_by=member)
    ActivityFactory(
        prospect=prospect,
        kind=OutreachActivity.Kind.EMAIL_SENT,
        occurred_at=now - timedelta(hours=2),
        summary="Pitched",
        user=member,
    )
    StatusChangeFactory(
        prospect=prospect,
        from_status="contacted",
        to_status="replied",
        changed_at=now - timedelta(hours=1),
    )
    ActivityFactory(prospect=ProspectFactory(campaign=campaign))  # someone else's
    entries = list(queries.timeline(prospect))
    assert [(e["entry"], e["kind_"], e["to_"]) for e in entries] == [
        ("status", "", "replied"),
        ("activity", "email_sent", ""),
        ("status", "", "contacted"),
    ]
    assert entries[1]["summary_"] == "Pitched"
    assert entries[1]["username"] == "member"


def test_timeline_paginates_in_the_database(campaign):
    prospect = ProspectFactory(campaign=campaign)
    ActivityFactory.create_batch(4, prospect=prospect)
    StatusChangeFactory.create_batch(3, prospect=prospect)
    page = Paginator(queries.timeline(prospect), 5).page(2)
    assert page.paginator.count == 7
    assert len(page.object_list) == 2


def test_my_follow_ups_are_mine_due_and_open(campaign, member):
    today = timezone.localdate()
    overdue = ProspectFactory(
        campaign=campaign, assignee=member, next_follow_up=today - timedelta(1)
    )
    due = ProspectFactory(campaign=campaign, assignee=member, next_follow_up=today)
    ProspectFactory(campaign=campaign, assignee=member, next_follow_up=today + timedelta(1))
    ProspectFactory(campaign=campaign, assignee=member, next_follow_up=today, status=Status.WON)
    ProspectFactory(campaign=campaign, assignee=UserFactory(), next_follow_up=today)
    # Assigned to me on a campaign I have since left: not mine to see.
    ProspectFactory(campaign=CampaignFactory(), assignee=member, next_follow_up=today)
    campaigns = Campaign.objects.visible_to(member)
    assert pks(queries.my_follow_ups(member, campaigns)) == [overdue.pk, due.pk]


def test_haro_deadlines_in_the_next_48_hours_on_my_campaigns(campaign, other_campaign, member):
    now = timezone.now()

    def haro(hours, **kw):
        fields = {"campaign": campaign, "kind": Kind.HARO, "deadline": now + timedelta(hours=hours)}
        return ProspectFactory(**(fields | kw))

    soon, later = haro(5), haro(40)
    haro(-1)  # passed
    haro(60)  # too far
    haro(5, status=Status.LOST)
    haro(5, campaign=other_campaign)
    campaigns = Campaign.objects.visible_to(member)
    assert pks(queries.haro_deadlines(campaigns)) == [soon.pk, later.pk]
