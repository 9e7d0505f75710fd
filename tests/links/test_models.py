"""Backlink.apply: one check's outcome moves one row through the loss rules.

No database: apply() changes the instance and returns its alerts; recording
them (transaction, lock, alert rows) is services.record_checks' part, tested
in test_loss_rules.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from links.models import Alert, Backlink, BacklinkState, Placement
from links.outcome import CheckOutcome, Sighting

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ANCHOR = {"href": "https://ours.example/", "text": "our guide", "rel": "", "dofollow": True}
LIVE = CheckOutcome(verdict="live", http_status=200, anchors=[ANCHOR], page_hash="a" * 64)
NOFOLLOW = CheckOutcome(
    verdict="nofollow",
    http_status=200,
    anchors=[{**ANCHOR, "rel": "sponsored nofollow", "dofollow": False}],
)
MISSING = CheckOutcome(verdict="missing", http_status=200)
GONE = CheckOutcome(verdict="error", http_status=410, error_kind="gone", gone=True)
TIMEOUT = CheckOutcome(verdict="error", error="timed out", error_kind="timeout")


def link(state: str = BacklinkState.LIVE, **fields: object) -> Backlink:
    fields.setdefault("first_seen_at", NOW - timedelta(days=200))
    return Backlink(
        source_url="https://blog.example/post",
        target_url="https://ours.example/",
        state=state,
        **fields,
    )


def kinds(alerts: list[tuple[str, str]]) -> list[str]:
    return [kind for kind, _message in alerts]


def test_a_first_live_check_makes_a_pending_link_live_and_checks_it_daily() -> None:
    backlink = link(BacklinkState.PENDING, first_seen_at=None)
    assert backlink.apply(LIVE, now=NOW) == []
    assert backlink.state == BacklinkState.LIVE
    assert backlink.first_seen_at == backlink.state_changed_at == backlink.last_checked_at == NOW
    assert backlink.last_verdict == "live"
    assert timedelta(hours=21) <= backlink.next_check_at - NOW <= timedelta(hours=27)


def test_one_missing_is_unconfirmed_and_a_second_one_is_a_loss(settings) -> None:
    backlink = link()
    assert backlink.apply(MISSING, now=NOW) == []
    assert backlink.state == BacklinkState.UNCONFIRMED
    assert backlink.lost_at is None
    assert backlink.next_check_at == NOW + timedelta(minutes=settings.VERIFIER_CONFIRM_MINUTES)

    later = NOW + timedelta(minutes=10)
    alerts = backlink.apply(MISSING, now=later)
    assert backlink.state == BacklinkState.LOST
    assert backlink.lost_at == backlink.state_changed_at == later
    assert kinds(alerts) == [Alert.Kind.LOST]
    assert "no longer on the page" in alerts[0][1]


def test_a_page_gone_twice_is_a_loss_that_names_the_status() -> None:
    backlink = link()
    backlink.apply(GONE, now=NOW)
    alerts = backlink.apply(GONE, now=NOW + timedelta(minutes=10))
    assert backlink.state == BacklinkState.LOST
    assert backlink.failing_since == NOW
    assert "answers 410" in alerts[0][1]


def test_an_error_is_never_a_loss_and_waits_out_a_confirmation() -> None:
    backlink = link()
    assert backlink.apply(TIMEOUT, now=NOW) == []
    assert backlink.state == BacklinkState.ERROR
    assert backlink.failing_since == NOW
    assert backlink.next_check_at == NOW + timedelta(hours=1)

    unconfirmed = link(BacklinkState.UNCONFIRMED)
    assert unconfirmed.apply(TIMEOUT, now=NOW) == []
    assert unconfirmed.state == BacklinkState.UNCONFIRMED


def test_errors_for_days_make_the_page_unreachable_once(settings) -> None:
    since = NOW - timedelta(days=settings.VERIFIER_UNREACHABLE_DAYS)
    backlink = link(BacklinkState.ERROR, failing_since=since)
    alerts = backlink.apply(TIMEOUT, now=NOW)
    assert backlink.state == BacklinkState.UNREACHABLE
    assert kinds(alerts) == [Alert.Kind.UNREACHABLE]
    assert "timed out" in alerts[0][1]
    assert backlink.apply(TIMEOUT, now=NOW + timedelta(days=1)) == []


@pytest.mark.parametrize("before", [BacklinkState.LOST, BacklinkState.UNREACHABLE])
def test_a_link_found_again_is_recovered(before: str) -> None:
    backlink = link(before, lost_at=NOW - timedelta(days=3), failing_since=NOW)
    assert kinds(backlink.apply(LIVE, now=NOW)) == [Alert.Kind.RECOVERED]
    assert backlink.state == BacklinkState.LIVE
    assert backlink.lost_at is None
    assert backlink.failing_since is None


def test_turning_nofollow_raises_an_alert_and_keeps_the_rel() -> None:
    backlink = link()
    assert kinds(backlink.apply(NOFOLLOW, now=NOW)) == [Alert.Kind.NOFOLLOW]
    assert backlink.state == BacklinkState.NOFOLLOW
    assert backlink.link_rel == "sponsored nofollow"
    assert backlink.apply(NOFOLLOW, now=NOW + timedelta(days=1)) == []


def test_changes_since_the_last_sighting_are_alerts() -> None:
    moved = CheckOutcome(
        verdict="live",
        anchors=[{**ANCHOR, "text": "click here", "placement": "footer"}],
        differences=[{"kind": "target"}],
    )
    previous = Sighting(anchor_text="our guide", wrong_target=False, placement=Placement.CONTENT)
    alerts = link().apply(moved, now=NOW, previous=previous)
    assert kinds(alerts) == [
        Alert.Kind.ANCHOR_CHANGED,
        Alert.Kind.TARGET_CHANGED,
        Alert.Kind.MOVED_OUT_OF_CONTENT,
    ]
    assert "into the footer" in alerts[2][1]


def test_apply_lists_every_field_it_writes() -> None:
    backlink = link(BacklinkState.PENDING, first_seen_at=None)
    before = {name: getattr(backlink, name) for name in vars(backlink)}
    backlink.apply(NOFOLLOW, now=NOW)
    changed = {name for name, value in before.items() if getattr(backlink, name) != value}
    assert changed <= set(Backlink.CHECK_FIELDS)
    assert changed >= {"state", "last_checked_at", "next_check_at", "link_rel"}
