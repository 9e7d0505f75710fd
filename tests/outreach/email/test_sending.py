"""Sequences, end to end through a real SMTP server on 127.0.0.1: what is scheduled,
the exact emails delivered with their threading headers, the daily limit and the
sending hours, and what happens when the server says no."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from outreach.email import sending, sequences
from outreach.email.models import ScheduledEmail, Sequence
from outreach.models import OutreachActivity, Prospect, Status
from tests.factories import DoNotContactFactory, MailboxFactory

Email = ScheduledEmail.State


def start(outreach, *prospects, now=None, **kwargs):
    result = sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[p.pk for p in prospects or [outreach.prospect]],
        template=kwargs.pop("template", outreach.template),
        mailbox=kwargs.pop("mailbox", outreach.mailbox),
        by=outreach.member,
        now=now,
    )
    assert not result.blocked, [b.reasons for b in result.blocked]
    return result.started


def send_due(now=None) -> list[str]:
    return [sending.send(claim) for claim in sending.claim_due(now=now)]


def test_starting_schedules_the_pitch_now_and_follow_ups_in_one_thread(outreach):
    now = timezone.now()
    (sequence,) = start(outreach, now=now)
    pitch, first, second = sequence.emails.order_by("step")
    assert (pitch.step, pitch.due_at, pitch.state) == (0, now, Email.QUEUED)
    assert first.due_at == now + timedelta(days=3)
    assert second.due_at == now + timedelta(days=7)
    assert pitch.subject == "A resource for runner-blog.example"
    assert first.subject == second.subject == "Re: A resource for runner-blog.example"
    assert pitch.body.startswith("Hi Jo,\n\nI enjoyed https://runner-blog.example/best-shoes/.")
    assert "Would https://ours.example/guide/ help?" in pitch.body
    assert pitch.message_id.endswith("@agency.example>")
    assert (pitch.in_reply_to, pitch.references) == ("", "")
    assert first.in_reply_to == pitch.message_id
    assert first.references == pitch.message_id
    assert second.in_reply_to == first.message_id
    assert second.references == f"{pitch.message_id} {first.message_id}"
    assert sequence.state == Sequence.State.ACTIVE
    assert sequence.domain == "runner-blog.example"


def test_the_pitch_is_delivered_exactly_as_previewed(outreach):
    (sequence,) = start(outreach)
    pitch = sequence.emails.get(step=0)
    assert send_due() == ["sent"]

    (received,) = outreach.smtp.messages
    assert outreach.smtp.logins == ["outreach@agency.example"]
    assert received.mail_from == "mia@agency.example"
    assert received.rcpt_tos == ["jo@runner-blog.example"]
    message = received.message
    assert message["From"] == "Mia Chen <mia@agency.example>"
    assert message["To"] == "Jo Novak <jo@runner-blog.example>"
    assert message["Subject"] == "A resource for runner-blog.example"
    assert message["Message-ID"] == pitch.message_id
    assert message["In-Reply-To"] is None
    assert message["References"] is None
    assert message["List-Unsubscribe"] == (
        f"<mailto:mia@agency.example?subject=unsubscribe%20{quote(pitch.message_id, safe='')}>"
    )
    assert message.get_content_type() == "text/plain"
    assert message.get_content().rstrip("\n") == pitch.body


def test_a_sent_pitch_is_an_activity_and_moves_the_prospect_to_contacted(outreach):
    (sequence,) = start(outreach)
    send_due()
    pitch = sequence.emails.get(step=0)
    assert pitch.state == Email.SENT
    activity = OutreachActivity.objects.get(prospect=outreach.prospect)
    assert activity.kind == OutreachActivity.Kind.EMAIL_SENT
    assert activity.user == outreach.member
    assert activity.summary.startswith(
        "“A resource for runner-blog.example” to jo@runner-blog.example from mia@agency.example"
    )
    assert pitch.activity == activity
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.CONTACTED
    change = outreach.prospect.status_changes.get(to_status=Status.CONTACTED)
    assert change.changed_by == outreach.member


def test_follow_ups_answer_the_thread_and_count_from_when_the_pitch_left(outreach):
    scheduled_at = timezone.now() - timedelta(days=2)
    (sequence,) = start(outreach, now=scheduled_at)
    # Held back two days (hours, limits): the follow-ups move with the pitch.
    assert send_due() == ["sent"]
    pitch, first, second = sequence.emails.order_by("step")
    assert first.due_at == pitch.sent_at + timedelta(days=3)
    assert second.due_at == pitch.sent_at + timedelta(days=7)

    assert send_due(now=pitch.sent_at + timedelta(days=2, hours=23)) == []
    assert send_due(now=pitch.sent_at + timedelta(days=3, minutes=1)) == ["sent"]
    follow_up = outreach.smtp.messages[1].message
    assert follow_up["Subject"] == "Re: A resource for runner-blog.example"
    assert follow_up["In-Reply-To"] == pitch.message_id
    assert follow_up["References"] == pitch.message_id
    assert follow_up["Message-ID"] == first.message_id
    assert follow_up.get_content().startswith("Hi Jo, just floating this back up.")
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.FOLLOWED_UP
    kinds = list(
        OutreachActivity.objects.filter(prospect=outreach.prospect)
        .order_by("occurred_at")
        .values_list("kind", flat=True)
    )
    assert kinds == ["email_sent", "follow_up"]

    first.refresh_from_db()
    assert send_due(now=first.sent_at + timedelta(days=5)) == ["sent"]
    last = outreach.smtp.messages[2].message
    assert last["In-Reply-To"] == first.message_id
    assert last["References"] == f"{pitch.message_id} {first.message_id}"
    sequence.refresh_from_db()
    assert sequence.state == Sequence.State.FINISHED


def test_a_follow_up_never_overtakes_an_unsent_pitch(outreach):
    (sequence,) = start(outreach, now=timezone.now() - timedelta(days=10))
    ScheduledEmail.objects.filter(sequence=sequence, step=0).update(
        state=Email.UNCERTAIN, claim_token=None
    )
    assert sending.claim_due() == []
    assert outreach.smtp.messages == []


def test_the_daily_limit_holds_and_counts_in_the_mailbox_day(outreach, settings):
    settings.OUTREACH_SENDS_PER_MINUTE = 50
    outreach.mailbox.daily_limit = 2
    outreach.mailbox.time_zone = "Asia/Tokyo"  # UTC+9, no daylight saving
    outreach.mailbox.save()
    prospects = [outreach.prospect_on(f"site{n}.example") for n in range(5)]
    # 10:00 in Tokyo
    morning = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    start(outreach, *prospects, now=morning - timedelta(hours=1))
    assert len(sending.claim_due(now=morning)) == 2
    assert sending.claim_due(now=morning + timedelta(hours=5)) == []
    # 08:59 next day in Tokyo is 23:59 UTC on the 10th: a new day there.
    next_day = datetime(2026, 3, 10, 23, 59, tzinfo=UTC)
    assert len(sending.claim_due(now=next_day)) == 2
    assert len(sending.claim_due(now=next_day + timedelta(days=1))) == 1


def test_the_limit_counts_sends_that_may_have_happened(outreach, settings):
    outreach.mailbox.daily_limit = 2
    outreach.mailbox.save()
    prospects = [outreach.prospect_on(f"site{n}.example") for n in range(3)]
    start(outreach, *prospects)
    first, _ = sending.claim_due()
    ScheduledEmail.objects.filter(pk=first.email_id).update(state=Email.UNCERTAIN)
    assert len(sending.claim_due()) == 0


def test_sending_hours_are_in_the_mailbox_time_zone(outreach):
    outreach.mailbox.window_start, outreach.mailbox.window_end = time(9), time(17)
    outreach.mailbox.time_zone = "America/New_York"
    outreach.mailbox.save()
    start(outreach, now=datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    # January: New York is UTC-5.
    assert sending.claim_due(now=datetime(2026, 1, 15, 13, 59, tzinfo=UTC)) == []
    assert sending.claim_due(now=datetime(2026, 1, 15, 22, 0, tzinfo=UTC)) == []
    assert len(sending.claim_due(now=datetime(2026, 1, 15, 14, 0, tzinfo=UTC))) == 1


def test_a_sending_window_may_run_past_midnight(outreach):
    outreach.mailbox.window_start, outreach.mailbox.window_end = time(22), time(6)
    outreach.mailbox.time_zone = "UTC"
    outreach.mailbox.save()
    start(outreach, now=datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    assert sending.claim_due(now=datetime(2026, 1, 15, 21, 59, tzinfo=UTC)) == []
    assert len(sending.claim_due(now=datetime(2026, 1, 16, 5, 0, tzinfo=UTC))) == 1


def test_each_minute_sends_at_most_the_pace(outreach, settings):
    settings.OUTREACH_SENDS_PER_MINUTE = 2
    start(outreach, *[outreach.prospect_on(f"site{n}.example") for n in range(5)])
    assert len(sending.claim_due()) == 2
    assert len(sending.claim_due()) == 2
    assert len(sending.claim_due()) == 1


def test_an_inactive_mailbox_sends_nothing(outreach):
    start(outreach)
    outreach.mailbox.is_active = False
    outreach.mailbox.save()
    assert sending.claim_due() == []


def test_a_claim_sends_once_however_often_its_task_runs(outreach):
    start(outreach)
    (claim,) = sending.claim_due()
    assert sending.send(claim) == "sent"
    assert sending.send(claim) == "skipped"
    assert sending.claim_due() == []
    assert len(outreach.smtp.messages) == 1
    assert OutreachActivity.objects.filter(prospect=outreach.prospect).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_reply_between_claim_and_data_stops_the_email(outreach):
    """The worker is at RCPT when the sequence stops: it must not go on to DATA."""
    (sequence,) = start(outreach)
    (claim,) = sending.claim_due()
    outreach.smtp.hold_at = "rcpt"
    outcome: list[str] = []

    def send_in_a_thread() -> None:
        try:
            outcome.append(sending.send(claim))
        finally:
            connection.close()

    worker = threading.Thread(target=send_in_a_thread)
    worker.start()
    assert outreach.smtp.held.wait(10)
    sequences.stop_sequence(sequence, reason=Sequence.StopReason.REPLIED)
    outreach.smtp.release.set()
    worker.join(10)
    assert outcome == ["cancelled"]
    assert outreach.smtp.messages == []
    assert set(sequence.emails.values_list("state", flat=True)) == {Email.CANCELLED}


def test_a_refused_recipient_marks_the_contact_invalid_and_stops(outreach):
    outreach.smtp.refuse["jo@runner-blog.example"] = (
        "550 5.1.1 <jo@runner-blog.example>: no such user"
    )
    (sequence,) = start(outreach)
    assert send_due() == ["failed"]
    assert outreach.smtp.messages == []
    pitch = sequence.emails.get(step=0)
    assert pitch.state == Email.FAILED
    assert "550" in pitch.last_error
    sequence.refresh_from_db()
    assert (sequence.state, sequence.stop_reason) == ("stopped", "bounced")
    assert set(sequence.emails.exclude(step=0).values_list("state", flat=True)) == {"cancelled"}
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is not None
    assert "no such user" in outreach.prospect.contact_invalid_reason
    note = OutreachActivity.objects.get(prospect=outreach.prospect)
    assert note.kind == "note"
    assert "could not be sent to jo@runner-blog.example: 550" in note.summary


def test_an_unreachable_server_retries_later_then_gives_up(outreach, settings):
    settings.OUTREACH_MAX_ATTEMPTS = 2
    outreach.mailbox.smtp_port = 9  # nothing listens on discard here
    outreach.mailbox.save()
    (sequence,) = start(outreach)
    before = timezone.now()
    assert send_due() == ["retry"]
    pitch = sequence.emails.get(step=0)
    assert (pitch.state, pitch.attempts, pitch.claim_token) == (Email.QUEUED, 1, None)
    assert pitch.due_at >= before + timedelta(minutes=5)
    assert "SMTP connection" in pitch.last_error
    assert send_due(now=pitch.due_at) == ["failed"]
    sequence.refresh_from_db()
    assert (sequence.state, sequence.stop_reason) == ("stopped", "failed")


def test_a_refused_login_is_the_mailbox_problem_not_the_email(outreach):
    from outreach.email.mailboxes import set_passwords

    set_passwords(outreach.mailbox, smtp="wrong")
    outreach.mailbox.save()
    (sequence,) = start(outreach)
    assert send_due() == ["retry"]
    pitch = sequence.emails.get(step=0)
    assert (pitch.state, pitch.attempts) == (Email.QUEUED, 0)
    outreach.mailbox.refresh_from_db()
    assert outreach.mailbox.last_send_error.startswith("Login refused: 535")


def test_the_rules_are_checked_again_before_each_send(outreach):
    (sequence,) = start(outreach)
    DoNotContactFactory(kind="domain", value="runner-blog.example", reason="Asked by phone")
    assert send_due() == ["blocked"]
    assert outreach.smtp.messages == []
    sequence.refresh_from_db()
    assert (sequence.state, sequence.stop_reason) == ("stopped", "do_not_contact")
    note = OutreachActivity.objects.get(prospect=outreach.prospect)
    assert "runner-blog.example is on the do-not-contact list" in note.summary
    assert "Asked by phone" in note.summary


def test_another_campaigns_email_before_the_pitch_leaves_blocks_it(outreach, other_campaign):
    (sequence,) = start(outreach)
    rival = outreach.prospect_on("runner-blog.example", campaign=other_campaign)
    OutreachActivity.objects.create(prospect=rival, kind="email_sent", summary="by hand")
    assert send_due() == ["blocked"]
    sequence.refresh_from_db()
    assert sequence.stop_reason == "cooldown"
    assert outreach.smtp.messages == []


def test_a_template_edit_never_changes_mail_already_planned(outreach):
    start(outreach)
    outreach.template.body = "Completely different"
    outreach.template.save()
    send_due()
    assert outreach.smtp.messages[0].message.get_content().startswith("Hi Jo,")


def test_stopping_cancels_every_email_not_yet_sent(outreach):
    (sequence,) = start(outreach)
    send_due()
    assert sequences.stop_sequence(sequence, reason="manual") is True
    states = dict(sequence.emails.values_list("step", "state"))
    assert states == {0: "sent", 1: "cancelled", 2: "cancelled"}
    assert sequences.stop_sequence(sequence, reason="manual") is False


def test_mailboxes_may_be_kept_to_some_campaigns(outreach, other_campaign):
    from outreach.email.mailboxes import for_campaign

    shared = outreach.mailbox
    private = MailboxFactory(email="only@agency.example")
    private.campaigns.add(other_campaign)
    assert list(for_campaign(outreach.campaign)) == [shared]
    assert set(for_campaign(other_campaign)) == {shared, private}
    with pytest.raises(Exception, match="mailbox this campaign may send from"):
        sequences.start_sequences(
            outreach.campaign,
            prospect_ids=[outreach.prospect.pk],
            template=outreach.template,
            mailbox=private,
            by=outreach.member,
        )


def test_prospect_status_is_not_moved_backwards(outreach):
    Prospect.objects.filter(pk=outreach.prospect.pk).update(status=Status.NEGOTIATING)
    start(outreach)
    send_due()
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.NEGOTIATING
