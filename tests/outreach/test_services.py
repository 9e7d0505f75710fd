from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Role
from outreach import services
from outreach.models import Kind, OutreachActivity, Status, StatusChange, Tag
from tests.factories import ProspectFactory, UserFactory


def test_change_status_records_who_from_and_to(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    change = services.change_status(prospect, to_status=Status.CONTACTED, by=member)
    assert (change.from_status, change.to_status, change.changed_by) == ("new", "contacted", member)
    prospect.refresh_from_db()
    assert prospect.status == Status.CONTACTED


def test_change_to_the_same_status_writes_no_history(campaign, member):
    prospect = ProspectFactory(campaign=campaign, status=Status.CONTACTED)
    assert services.change_status(prospect, to_status=Status.CONTACTED, by=member) is None
    assert not StatusChange.objects.filter(prospect=prospect).exists()


def test_unknown_status_is_refused(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    with pytest.raises(ValueError, match="limbo"):
        services.change_status(prospect, to_status="limbo", by=member)


def test_log_activity_sets_the_next_follow_up(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    day = prospect.created_at.date()
    activity = services.log_activity(
        prospect, kind=OutreachActivity.Kind.EMAIL_SENT, by=member, next_follow_up=day
    )
    prospect.refresh_from_db()
    assert activity.user == member
    assert prospect.next_follow_up == day


def test_create_prospect_records_its_first_status(campaign, member):
    prospect = services.create_prospect(
        by=member, campaign=campaign, kind=Kind.BLOGGER, url="https://new.example/post"
    )
    change = prospect.status_changes.get()
    assert (change.from_status, change.to_status) == ("", "new")


def test_create_prospect_refuses_a_duplicate_with_a_message(campaign, member):
    ProspectFactory(campaign=campaign, url="https://dup.example/post")
    with pytest.raises(ValidationError) as excinfo:
        services.create_prospect(
            by=member, campaign=campaign, kind=Kind.BLOGGER, url="http://www.dup.example/post/"
        )
    assert "already exists" in str(excinfo.value)


def test_create_prospect_refuses_a_non_http_url(campaign, member):
    with pytest.raises(ValidationError) as excinfo:
        services.create_prospect(
            by=member, campaign=campaign, kind=Kind.BLOGGER, url="ftp://files.example/"
        )
    assert "url" in excinfo.value.message_dict


# --- bulk actions ---------------------------------------------------------------


def test_bulk_assign_gives_the_selected_prospects_to_a_member(campaign, member):
    chosen = ProspectFactory.create_batch(2, campaign=campaign)
    already = ProspectFactory(campaign=campaign, assignee=member)
    untouched = ProspectFactory(campaign=campaign)
    ids = [p.pk for p in [*chosen, already]]
    assert services.bulk_assign(campaign, prospect_ids=ids, assignee=member, by=member) == 2
    assert set(campaign.prospects.filter(assignee=member)) == {*chosen, already}
    untouched.refresh_from_db()
    assert untouched.assignee is None


def test_bulk_assign_none_unassigns(campaign, member):
    prospect = ProspectFactory(campaign=campaign, assignee=member)
    assert services.bulk_assign(campaign, prospect_ids=[prospect.pk], assignee=None, by=member) == 1
    prospect.refresh_from_db()
    assert prospect.assignee is None


def test_bulk_assign_refuses_someone_who_cannot_see_the_campaign(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    outsider = UserFactory(role=Role.MEMBER)
    with pytest.raises(ValidationError, match="not on this campaign"):
        services.bulk_assign(campaign, prospect_ids=[prospect.pk], assignee=outsider, by=member)


def test_bulk_actions_ignore_ids_from_another_campaign(campaign, other_campaign, member):
    theirs = ProspectFactory(campaign=other_campaign)
    assert services.bulk_assign(campaign, prospect_ids=[theirs.pk], assignee=member, by=member) == 0
    n = services.bulk_change_status(
        campaign, prospect_ids=[theirs.pk], to_status=Status.WON, by=member
    )
    _, tagged = services.bulk_add_tag(campaign, prospect_ids=[theirs.pk], tag_name="x", by=member)
    theirs.refresh_from_db()
    assert (n, tagged, theirs.status, theirs.assignee) == (0, 0, Status.NEW, None)


def test_bulk_change_status_records_one_history_row_per_changed_prospect(campaign, member):
    new = ProspectFactory.create_batch(3, campaign=campaign, status=Status.NEW)
    there = ProspectFactory(campaign=campaign, status=Status.CONTACTED)
    ids = [p.pk for p in [*new, there]]
    n = services.bulk_change_status(
        campaign, prospect_ids=ids, to_status=Status.CONTACTED, by=member
    )
    assert n == 3
    changes = StatusChange.objects.filter(prospect__campaign=campaign)
    assert sorted(changes.values_list("prospect_id", "from_status", "to_status", "changed_by")) == [
        (p.pk, "new", "contacted", member.pk) for p in new
    ]
    assert set(campaign.prospects.values_list("status", flat=True)) == {"contacted"}


def test_bulk_change_status_refuses_an_unknown_status(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    with pytest.raises(ValueError, match="limbo"):
        services.bulk_change_status(
            campaign, prospect_ids=[prospect.pk], to_status="limbo", by=member
        )


def test_bulk_add_tag_creates_the_tag_once_and_reuses_it_case_insensitively(campaign, member):
    first, second = ProspectFactory.create_batch(2, campaign=campaign)
    tag, n = services.bulk_add_tag(
        campaign, prospect_ids=[first.pk], tag_name="  Tier  1 ", by=member
    )
    assert (tag.name, n) == ("Tier 1", 1)
    again, n = services.bulk_add_tag(
        campaign, prospect_ids=[first.pk, second.pk], tag_name="tier 1", by=member
    )
    assert again == tag
    assert n == 1  # the first already had it
    assert Tag.objects.filter(campaign=campaign).count() == 1
    assert set(tag.prospects.all()) == {first, second}


def test_bulk_add_tag_needs_a_name(campaign, member):
    prospect = ProspectFactory(campaign=campaign)
    with pytest.raises(ValidationError, match="tag name"):
        services.bulk_add_tag(campaign, prospect_ids=[prospect.pk], tag_name="   ", by=member)


def test_bulk_selection_is_capped(campaign, member):
    with pytest.raises(ValidationError, match="at most"):
        services.bulk_assign(
            campaign, prospect_ids=range(1, services.MAX_BULK + 2), assignee=None, by=member
        )
