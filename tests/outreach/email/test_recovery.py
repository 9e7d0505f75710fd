"""After an interrupted send: what was never transmitted goes again; what may have
left is settled from the mailbox's Sent folder (a real Dovecot) or by a person,
and nothing is ever sent twice on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from outreach.email import recovery, sending, sequences
from outreach.email.models import ScheduledEmail, Sequence
from outreach.models import OutreachActivity

Email = ScheduledEmail.State


@pytest.fixture
def claimed(outreach):
    """The pitch claimed by a worker that then died."""
    sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[outreach.prospect.pk],
        template=outreach.template,
        mailbox=outreach.mailbox,
        by=outreach.member,
    )
    (claim,) = sending.claim_due()
    return ScheduledEmail.objects.get(pk=claim.email_id)


def later(settings):
    return timezone.now() + timedelta(seconds=settings.OUTREACH_SEND_LEASE_SECONDS + 1)


def as_sent_by_the_provider(outreach, email: ScheduledEmail) -> None:
    """What Gmail does with mail sent over SMTP: a copy in Sent."""
    outreach.imap.deliver(
        f"From: mia@agency.example\nTo: {email.to_email}\nSubject: {email.subject}\n"
        f"Message-ID: {email.message_id}\n\n{email.body}\n",
        mailbox="Sent",
    )


def test_a_claim_that_never_reached_data_is_queued_again(outreach, claimed, settings):
    assert recovery.recover_stale() == {"requeued": 0, "sent": 0, "uncertain": 0}
    assert recovery.recover_stale(now=later(settings))["requeued"] == 1
    claimed.refresh_from_db()
    assert (claimed.state, claimed.claim_token) == (Email.QUEUED, None)
    (claim,) = sending.claim_due()
    assert sending.send(claim) == "sent"
    assert len(outreach.smtp.messages) == 1


def test_the_old_claim_cannot_send_after_recovery(outreach, claimed, settings):
    old_token = claimed.claim_token
    recovery.recover_stale(now=later(settings))
    sending.claim_due()  # claimed again by someone else
    assert sending.send(sending.Claim(claimed.pk, old_token)) == "skipped"
    assert outreach.smtp.messages == []


def test_found_in_the_sent_folder_it_is_recorded_as_sent(outreach, claimed, settings):
    ScheduledEmail.objects.filter(pk=claimed.pk).update(transmit_started_at=timezone.now())
    as_sent_by_the_provider(outreach, claimed)
    assert recovery.recover_stale(now=later(settings))["sent"] == 1
    claimed.refresh_from_db()
    assert claimed.state == Email.SENT
    activity = OutreachActivity.objects.get(prospect=outreach.prospect)
    assert activity.kind == "email_sent"
    assert "found in the Sent folder after an interrupted send" in activity.summary
    assert outreach.smtp.messages == []  # not sent again


def test_missing_from_sent_it_waits_for_a_person(outreach, claimed, settings):
    ScheduledEmail.objects.filter(pk=claimed.pk).update(transmit_started_at=timezone.now())
    other = ScheduledEmail(message_id="<other@agency.example>", to_email="a@b.example", body="")
    as_sent_by_the_provider(outreach, other)  # the Sent folder holds other mail
    assert recovery.recover_stale(now=later(settings))["uncertain"] == 1
    claimed.refresh_from_db()
    assert claimed.state == Email.UNCERTAIN
    assert "It is not in the Sent folder “Sent”." in claimed.last_error
    # Neither the dispatcher nor a later recovery sends it, nor its follow-ups.
    assert sending.claim_due(now=timezone.now() + timedelta(days=30)) == []
    assert recovery.recover_stale(now=later(settings) + timedelta(hours=1))["uncertain"] == 0
    assert outreach.smtp.messages == []


def test_without_imap_settings_it_waits_for_a_person(outreach, claimed, settings):
    outreach.mailbox.imap_host = ""
    outreach.mailbox.save()
    ScheduledEmail.objects.filter(pk=claimed.pk).update(transmit_started_at=timezone.now())
    recovery.recover_stale(now=later(settings))
    claimed.refresh_from_db()
    assert claimed.state == Email.UNCERTAIN
    assert "no IMAP settings" in claimed.last_error


def test_a_person_confirms_it_was_sent(outreach, claimed):
    ScheduledEmail.objects.filter(pk=claimed.pk).update(state=Email.UNCERTAIN)
    claimed.refresh_from_db()
    recovery.resolve_by_hand(claimed, was_sent=True, by=outreach.member)
    claimed.refresh_from_db()
    assert claimed.state == Email.SENT
    activity = OutreachActivity.objects.get()
    assert "confirmed as sent by member" in activity.summary
    with pytest.raises(ValidationError, match="no longer waiting"):
        recovery.resolve_by_hand(claimed, was_sent=False, by=outreach.member)


def test_a_person_says_it_was_not_sent_and_it_goes_again_with_its_message_id(outreach, claimed):
    ScheduledEmail.objects.filter(pk=claimed.pk).update(state=Email.UNCERTAIN)
    claimed.refresh_from_db()
    recovery.resolve_by_hand(claimed, was_sent=False, by=outreach.member)
    (claim,) = sending.claim_due()
    assert sending.send(claim) == "sent"
    assert outreach.smtp.messages[0].message["Message-ID"] == claimed.message_id


def test_not_sent_on_a_stopped_sequence_is_cancelled(outreach, claimed):
    ScheduledEmail.objects.filter(pk=claimed.pk).update(state=Email.UNCERTAIN)
    claimed.refresh_from_db()
    sequences.stop_sequence(claimed.sequence, reason=Sequence.StopReason.REPLIED)
    claimed.refresh_from_db()
    assert claimed.state == Email.UNCERTAIN  # a stop does not decide for the person
    recovery.resolve_by_hand(claimed, was_sent=False, by=outreach.member)
    claimed.refresh_from_db()
    assert claimed.state == Email.CANCELLED
