from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from outreach import services
from outreach.models import Kind, OutreachActivity, Status, StatusChange
from tests.factories import ProspectFactory


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
