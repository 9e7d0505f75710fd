"""DESIGN.md's loss rules, applied by services.record_check to real rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from links import dispatch, services
from links.models import Alert, BacklinkState, LinkCheck
from links.outcome import CheckOutcome
from tests.factories import BacklinkFactory

LIVE = CheckOutcome(
    verdict="live",
    http_status=200,
    anchors=[{"href": "https://ours.example/", "text": "our guide", "rel": "", "dofollow": True}],
    page_hash="a" * 64,
)
NOFOLLOW = CheckOutcome(
    verdict="nofollow",
    http_status=200,
    anchors=[
        {"href": "https://ours.example/", "text": "our guide", "rel": "nofollow", "dofollow": False}
    ],
    page_hash="b" * 64,
)
MISSING = CheckOutcome(verdict="missing", http_status=200, page_hash="c" * 64)
GONE = CheckOutcome(
    verdict="error", http_status=404, error="HTTP 404", error_kind="gone", gone=True
)
UNAVAILABLE = CheckOutcome(
    verdict="error", http_status=503, error="HTTP 503", error_kind="bot_wall"
)


@pytest.fixture
def backlink(db):
    return BacklinkFactory(state=BacklinkState.LIVE, first_seen_at=timezone.now())


def record(backlink, outcome, at):
    services.record_check(backlink.pk, outcome, now=at)
    backlink.refresh_from_db()
    return backlink


def kinds(backlink) -> list[str]:
    return list(Alert.objects.filter(backlink=backlink).values_list("kind", flat=True))


def test_a_single_missing_does_not_mark_the_link_lost(backlink):
    now = timezone.now()
    record(backlink, MISSING, now)
    assert backlink.state == BacklinkState.UNCONFIRMED
    assert backlink.lost_at is None
    assert kinds(backlink) == []
    # The confirmation comes minutes later, not at the next daily check.
    assert backlink.next_check_at - now == timedelta(minutes=10)


def test_a_confirmed_missing_marks_the_link_lost_with_an_alert(backlink):
    now = timezone.now()
    record(backlink, MISSING, now)
    record(backlink, MISSING, now + timedelta(minutes=10))
    assert backlink.state == BacklinkState.LOST
    assert backlink.lost_at == now + timedelta(minutes=10)
    assert kinds(backlink) == [Alert.Kind.LOST]


def test_missing_then_back_is_not_a_loss(backlink):
    now = timezone.now()
    record(backlink, MISSING, now)
    record(backlink, LIVE, now + timedelta(minutes=10))
    assert backlink.state == BacklinkState.LIVE
    assert kinds(backlink) == []


def test_a_404_twice_is_a_loss(backlink):
    now = timezone.now()
    record(backlink, GONE, now)
    assert backlink.state == BacklinkState.UNCONFIRMED
    record(backlink, GONE, now + timedelta(minutes=10))
    assert backlink.state == BacklinkState.LOST
    assert "answers 404" in Alert.objects.get(backlink=backlink).message


def test_a_503_for_a_week_raises_unreachable_and_never_lost(backlink):
    start = timezone.now()
    at = start
    while at < start + timedelta(days=7):
        record(backlink, UNAVAILABLE, at)
        assert backlink.state != BacklinkState.LOST
        at = backlink.next_check_at
    assert backlink.state == BacklinkState.UNREACHABLE
    assert backlink.lost_at is None
    assert kinds(backlink) == [Alert.Kind.UNREACHABLE]  # raised once, not every check
    # Backed off: far fewer than one check an hour over the week.
    assert LinkCheck.objects.filter(backlink=backlink).count() < 20


def test_a_short_outage_shows_error_but_raises_no_alert(backlink):
    now = timezone.now()
    record(backlink, UNAVAILABLE, now)
    assert backlink.state == BacklinkState.ERROR
    assert backlink.next_check_at - now == timedelta(hours=1)
    record(backlink, LIVE, now + timedelta(hours=1))
    assert backlink.state == BacklinkState.LIVE
    assert backlink.failing_since is None
    assert kinds(backlink) == []


def test_an_error_while_confirming_keeps_waiting_for_a_real_answer(backlink):
    now = timezone.now()
    record(backlink, MISSING, now)
    record(backlink, UNAVAILABLE, now + timedelta(minutes=10))
    assert backlink.state == BacklinkState.UNCONFIRMED
    record(backlink, MISSING, now + timedelta(minutes=20))
    assert backlink.state == BacklinkState.LOST


def test_recovery_after_a_loss_is_recorded(backlink):
    now = timezone.now()
    record(backlink, MISSING, now)
    record(backlink, MISSING, now + timedelta(minutes=10))
    record(backlink, LIVE, now + timedelta(days=1))
    assert backlink.state == BacklinkState.LIVE
    assert backlink.lost_at is None
    assert kinds(backlink) == [Alert.Kind.RECOVERED, Alert.Kind.LOST]


def test_recovery_from_unreachable_is_recorded(backlink):
    backlink.state = BacklinkState.UNREACHABLE
    backlink.failing_since = timezone.now() - timedelta(days=5)
    backlink.save()
    record(backlink, LIVE, timezone.now())
    assert kinds(backlink) == [Alert.Kind.RECOVERED]


def test_turning_nofollow_raises_an_alert_once(backlink):
    now = timezone.now()
    record(backlink, NOFOLLOW, now)
    record(backlink, NOFOLLOW, now + timedelta(days=1))
    assert backlink.state == BacklinkState.NOFOLLOW
    assert kinds(backlink) == [Alert.Kind.NOFOLLOW]


def test_a_changed_anchor_text_raises_an_alert(backlink):
    now = timezone.now()
    record(backlink, LIVE, now)
    renamed = CheckOutcome(
        verdict="live",
        anchors=[
            {"href": "https://ours.example/", "text": "click here", "rel": "", "dofollow": True}
        ],
    )
    record(backlink, renamed, now + timedelta(days=1))
    assert kinds(backlink) == [Alert.Kind.ANCHOR_CHANGED]
    assert "'our guide' to 'click here'" in Alert.objects.get(backlink=backlink).message


def test_a_link_moved_to_another_target_raises_an_alert(backlink):
    now = timezone.now()
    record(backlink, LIVE, now)
    moved = CheckOutcome(
        verdict="live",
        anchors=LIVE.anchors,
        differences=[{"kind": "target", "expected": "https://ours.example/", "found": ["x"]}],
    )
    record(backlink, moved, now + timedelta(days=1))
    assert kinds(backlink) == [Alert.Kind.TARGET_CHANGED]


def placed(placement, *, kind="text", rel="", dofollow=True, text="our guide"):
    anchor = {"href": "https://ours.example/", "text": text, "rel": rel, "dofollow": dofollow}
    anchor.update(kind=kind, placement=placement)
    return CheckOutcome(
        verdict="live" if dofollow else "nofollow", http_status=200, anchors=[anchor]
    )


def test_a_link_moved_from_the_content_into_the_footer_raises_one_alert(backlink):
    now = timezone.now()
    record(backlink, placed("content"), now)
    assert backlink.placement == "content"
    record(backlink, placed("footer"), now + timedelta(days=1))
    assert backlink.placement == "footer"
    assert kinds(backlink) == [Alert.Kind.MOVED_OUT_OF_CONTENT]
    assert "moved out of the content, into the footer" in Alert.objects.get().message
    # Still in the footer: nothing new to say.
    record(backlink, placed("footer"), now + timedelta(days=2))
    assert kinds(backlink) == [Alert.Kind.MOVED_OUT_OF_CONTENT]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("footer", "footer"),
        ("footer", "content"),
        ("content", "content"),
        ("sidebar", "footer"),
        # Not known (a page too deep for a tree) is no evidence of a move.
        ("content", None),
        # A check from before placement was recorded.
        (None, "footer"),
    ],
)
def test_no_alert_unless_the_link_left_the_content(backlink, before, after):
    now = timezone.now()
    record(backlink, placed(before), now)
    record(backlink, placed(after), now + timedelta(days=1))
    assert kinds(backlink) == []


def test_moving_out_of_the_content_while_missing_in_between_is_noticed(backlink):
    now = timezone.now()
    record(backlink, placed("content"), now)
    record(backlink, MISSING, now + timedelta(days=1))
    record(backlink, placed("comments"), now + timedelta(days=1, minutes=10))
    assert kinds(backlink) == [Alert.Kind.MOVED_OUT_OF_CONTENT]


def test_the_backlink_keeps_the_primary_anchors_placement_kind_and_rel(backlink):
    # A nofollow image in the sidebar and a followed text link in the footer:
    # the link is the one that passes value.
    outcome = CheckOutcome(
        verdict="live",
        anchors=[
            {"href": "x", "text": "a", "rel": "nofollow sponsored", "dofollow": False}
            | {"kind": "image", "placement": "sidebar"},
            {"href": "x", "text": "b", "rel": "", "dofollow": True}
            | {"kind": "text", "placement": "footer"},
        ],
    )
    record(backlink, outcome, timezone.now())
    assert (backlink.placement, backlink.link_kind, backlink.link_rel) == ("footer", "text", "")
    record(
        backlink,
        placed("sidebar", kind="image", rel="ugc nofollow noopener", dofollow=False),
        timezone.now() + timedelta(days=1),
    )
    assert (backlink.placement, backlink.link_kind, backlink.link_rel) == (
        "sidebar",
        "image",
        "ugc nofollow",
    )
    # A lost link keeps where it was last seen.
    record(backlink, MISSING, timezone.now() + timedelta(days=2))
    assert backlink.placement == "sidebar"


def test_a_new_link_is_checked_daily_then_weekly(backlink):
    now = timezone.now()
    backlink.first_seen_at = now - timedelta(days=30)
    backlink.state_changed_at = now - timedelta(days=30)
    backlink.save()
    record(backlink, LIVE, now)
    assert timedelta(days=6) < backlink.next_check_at - now < timedelta(days=8)
    fresh = BacklinkFactory(state=BacklinkState.LIVE, first_seen_at=now)
    record(fresh, LIVE, now)
    assert timedelta(hours=21) < fresh.next_check_at - now < timedelta(hours=27)


def test_a_stale_claim_records_nothing(backlink):
    now = timezone.now()
    claim = dispatch.claim([backlink.pk], now=now)[0]
    assert services.record_check(claim, LIVE, now=now) is not None
    # The same claim again (a redelivered task) finds its lease gone.
    assert services.record_check(claim, LIVE, now=now) is None
    assert LinkCheck.objects.filter(backlink=backlink).count() == 1


def test_unchanged_pages_do_not_store_the_snippet_again(backlink):
    now = timezone.now()
    with_snippet = CheckOutcome(
        verdict="live", anchors=LIVE.anchors, page_hash="d" * 64, snippet="<p><a>our guide</a></p>"
    )
    record(backlink, with_snippet, now)
    record(backlink, with_snippet, now + timedelta(days=1))
    snippets = list(
        LinkCheck.objects.filter(backlink=backlink)
        .order_by("checked_at")
        .values_list("snippet", flat=True)
    )
    assert snippets == ["<p><a>our guide</a></p>", ""]


def test_a_batch_applies_each_links_own_rules(db):
    now = timezone.now()
    steady, confirming, renamed = (
        BacklinkFactory(state=BacklinkState.LIVE, first_seen_at=now) for _ in range(3)
    )
    record(confirming, MISSING, now - timedelta(minutes=10))
    record(renamed, LIVE, now - timedelta(days=1))
    new_anchor = CheckOutcome(
        verdict="live",
        anchors=[{"href": "https://ours.example/", "text": "read this", "dofollow": True}],
        page_hash="e" * 64,
    )
    recorded = services.record_checks(
        [(steady.pk, LIVE), (confirming.pk, MISSING), (renamed.pk, new_anchor)], now=now
    )
    assert set(recorded) == {steady.pk, confirming.pk, renamed.pk}
    for backlink in (steady, confirming, renamed):
        backlink.refresh_from_db()
        assert backlink.last_checked_at == now
    assert (steady.state, confirming.state, renamed.state) == (
        BacklinkState.LIVE,
        BacklinkState.LOST,
        BacklinkState.LIVE,
    )
    assert kinds(steady) == []
    assert kinds(confirming) == [Alert.Kind.LOST]
    assert kinds(renamed) == [Alert.Kind.ANCHOR_CHANGED]


def test_a_batch_skips_stale_claims_and_keeps_the_rest(db):
    now = timezone.now()
    first, second = BacklinkFactory.create_batch(2, state=BacklinkState.LIVE, first_seen_at=now)
    claims = dispatch.claim([first.pk, second.pk], now=now)
    services.record_check(claims[0], LIVE, now=now)  # a first run already did this one
    recorded = services.record_checks([(claims[0], LIVE), (claims[1], NOFOLLOW)], now=now)
    assert set(recorded) == {second.pk}
    assert LinkCheck.objects.filter(backlink=first).count() == 1
    assert LinkCheck.objects.get(backlink=second).verdict == "nofollow"


def test_a_batch_costs_the_same_queries_whatever_its_size(db, django_assert_num_queries):
    now = timezone.now()
    backlinks = BacklinkFactory.create_batch(20, state=BacklinkState.LIVE, first_seen_at=now)
    # Savepoint, locking select, insert of the checks, update of the links, release.
    with django_assert_num_queries(5):
        services.record_checks([(b.pk, MISSING) for b in backlinks[:2]], now=now)
    with django_assert_num_queries(5):
        services.record_checks([(b.pk, MISSING) for b in backlinks[2:]], now=now)
    assert LinkCheck.objects.count() == 20


def test_alerts_of_a_batch_are_one_more_statement(db, django_assert_num_queries):
    now = timezone.now()
    backlinks = BacklinkFactory.create_batch(
        6, state=BacklinkState.UNCONFIRMED, first_seen_at=now - timedelta(days=5)
    )
    # The second "missing" in a row: each link is lost, each raises an alert.
    with django_assert_num_queries(6):
        services.record_checks([(b.pk, MISSING) for b in backlinks], now=now)
    assert Alert.objects.filter(kind=Alert.Kind.LOST).count() == 6


def test_one_backlink_twice_in_a_batch_is_refused(backlink):
    with pytest.raises(ValueError, match="twice"):
        services.record_checks([(backlink.pk, LIVE), (backlink.pk, MISSING)])
    assert LinkCheck.objects.count() == 0


@pytest.mark.parametrize(
    ("anchors", "text"),
    [
        ([], None),
        ([{"text": "a", "dofollow": False}, {"text": "b", "dofollow": False}], "a"),
        ([{"text": "a", "dofollow": False}, {"text": "b", "dofollow": True}], "b"),
        (
            [
                {"text": "a", "dofollow": True, "placement": "footer"},
                {"text": "b", "dofollow": True, "placement": "content"},
            ],
            "b",
        ),
        (
            [
                {"text": "a", "dofollow": True, "placement": "footer"},
                {"text": "b", "dofollow": False, "placement": "content"},
            ],
            "a",
        ),
    ],
)
def test_primary_anchor(anchors, text):
    from links.outcome import primary_anchor

    found = primary_anchor(anchors)
    assert (found or {}).get("text") == text
