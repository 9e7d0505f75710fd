from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Campaign
from links import services
from links.models import Alert, Backlink, BacklinkState
from outreach.models import Kind, Status, StatusChange
from tests.factories import (
    AlertFactory,
    BacklinkFactory,
    CampaignFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)


@pytest.fixture
def target(campaign):
    return TargetPageFactory(campaign=campaign, url="https://ours.example/guide/")


def test_record_won_link_creates_the_backlink_and_marks_the_prospect_won(campaign, member, target):
    prospect = ProspectFactory(
        campaign=campaign, url="https://blog.example/post/", status=Status.NEGOTIATING
    )
    backlink = services.record_won_link(
        prospect,
        by=member,
        source_url="https://blog.example/post/",
        target_page=target,
        target_url="",
        anchor_text=" running guide ",
        cost=Decimal("50.00"),
    )
    backlink.refresh_from_db()
    assert (backlink.campaign, backlink.prospect, backlink.target_page) == (
        campaign,
        prospect,
        target,
    )
    assert backlink.target_url == "https://ours.example/guide/"  # from the target page
    assert backlink.expected_anchor_text == "running guide"
    assert (backlink.won_by, backlink.cost, backlink.won_on) == (
        member,
        Decimal("50.00"),
        timezone.localdate(),
    )
    assert backlink.state == BacklinkState.PENDING
    prospect.refresh_from_db()
    assert prospect.status == Status.WON
    change = StatusChange.objects.get(prospect=prospect)
    assert (change.from_status, change.to_status, change.changed_by) == (
        "negotiating",
        "won",
        member,
    )


def test_record_won_link_queues_the_first_check(
    campaign, member, target, django_capture_on_commit_callbacks
):
    before = timezone.now()
    with django_capture_on_commit_callbacks() as queued:
        backlink = services.record_won_link(
            ProspectFactory(campaign=campaign),
            by=member,
            source_url="https://blog.example/a",
            target_page=target,
        )
    backlink.refresh_from_db()
    assert backlink.check_requested_at >= before
    assert backlink.recheck_status() == "waiting"
    assert len(queued) == 1  # the check task, sent once the transaction commits


def test_record_won_link_accepts_an_explicit_target_url(campaign, member):
    domain_target = TargetPageFactory(
        campaign=campaign, url="https://ours.example/", is_domain=True
    )
    backlink = services.record_won_link(
        ProspectFactory(campaign=campaign),
        by=member,
        source_url="https://blog.example/a",
        target_page=domain_target,
        target_url="https://ours.example/shop/shoes",
    )
    assert backlink.target_url == "https://ours.example/shop/shoes"


def test_a_prospect_already_won_gets_no_second_history_row(campaign, member, target):
    prospect = ProspectFactory(campaign=campaign, status=Status.WON)
    services.record_won_link(
        prospect, by=member, source_url="https://blog.example/b", target_page=target
    )
    assert not StatusChange.objects.filter(prospect=prospect).exists()


def test_record_won_link_refuses_a_target_page_of_another_campaign(campaign, member):
    elsewhere = TargetPageFactory(campaign=CampaignFactory())
    with pytest.raises(ValidationError) as excinfo:
        services.record_won_link(
            ProspectFactory(campaign=campaign),
            by=member,
            source_url="https://blog.example/a",
            target_page=elsewhere,
        )
    assert "target_page" in excinfo.value.message_dict
    assert not Backlink.objects.exists()


def test_record_won_link_needs_a_target(campaign, member):
    with pytest.raises(ValidationError) as excinfo:
        services.record_won_link(
            ProspectFactory(campaign=campaign),
            by=member,
            source_url="https://blog.example/a",
            target_page=None,
        )
    assert "target_url" in excinfo.value.message_dict


def test_record_won_link_explains_a_bad_url(campaign, member, target):
    prospect = ProspectFactory(campaign=campaign)
    with pytest.raises(ValidationError) as excinfo:
        services.record_won_link(
            prospect, by=member, source_url="ftp://files.example/x", target_page=target
        )
    assert "only http and https" in excinfo.value.message_dict["source_url"][0]
    prospect.refresh_from_db()
    assert prospect.status == Status.NEW  # nothing written


def test_record_won_link_refuses_the_same_link_twice(campaign, member, target):
    prospect = ProspectFactory(campaign=campaign)
    services.record_won_link(
        prospect, by=member, source_url="https://blog.example/a/", target_page=target
    )
    with pytest.raises(ValidationError) as excinfo:
        services.record_won_link(
            prospect, by=member, source_url="http://www.blog.example/a", target_page=target
        )
    assert "already recorded" in excinfo.value.message_dict["source_url"][0]
    assert Backlink.objects.count() == 1


def test_record_won_link_for_a_broken_link_prospect(campaign, member, target):
    prospect = ProspectFactory(
        campaign=campaign,
        kind=Kind.BROKEN_LINK,
        dead_url="https://gone.example/old",
        offered_target=target,
    )
    backlink = services.record_won_link(
        prospect, by=member, source_url=prospect.url, target_page=prospect.offered_target
    )
    assert backlink.target_url == target.url


# --- recheck status on the model (what the row shows) ----------------------------


def test_recheck_status_waits_then_times_out_then_clears_with_a_check(campaign):
    now = timezone.now()
    backlink = BacklinkFactory(campaign=campaign, check_requested_at=now - timedelta(seconds=10))
    assert backlink.recheck_status(now) == "waiting"
    backlink.check_requested_at = now - timedelta(seconds=61)
    assert backlink.recheck_status(now) == "timed_out"
    backlink.last_checked_at = now
    assert backlink.recheck_status(now) == ""
    assert BacklinkFactory(campaign=campaign).recheck_status(now) == ""


# --- alerts ---------------------------------------------------------------------


def test_mark_alerts_read_records_who_and_keeps_the_first_reader(campaign, member):
    alert = AlertFactory(campaign=campaign)
    assert services.mark_alerts_read(Alert.objects.filter(pk=alert.pk), by=member) == 1
    alert.refresh_from_db()
    first_read = alert.read_at
    assert alert.read_by == member
    again = services.mark_alerts_read(Alert.objects.filter(pk=alert.pk), by=UserFactory())
    assert again == 0
    alert.refresh_from_db()
    assert (alert.read_at, alert.read_by) == (first_read, member)


def test_mark_alerts_read_touches_only_the_given_alerts(campaign, other_campaign, member):
    AlertFactory.create_batch(3, campaign=campaign)
    AlertFactory(campaign=campaign, read_at=timezone.now())
    theirs = AlertFactory(campaign=other_campaign)
    visible = Alert.objects.filter(campaign__in=Campaign.objects.visible_to(member))
    assert services.mark_alerts_read(visible, by=member) == 3
    assert not Alert.objects.filter(campaign=campaign, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
