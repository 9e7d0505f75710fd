"""Reading replies from a real IMAP server (Dovecot on 127.0.0.1): matching by thread
headers or sender, stopping follow-ups, bounces, unsubscribes and auto-replies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.email import replies, safety, sending, sequences
from outreach.email.models import DoNotContact, InboundEmail, Mailbox, ScheduledEmail, Sequence
from outreach.models import OutreachActivity, Status


@pytest.fixture
def pitched(outreach):
    """The pitch went out to Jo; two follow-ups wait."""
    (sequence,) = sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[outreach.prospect.pk],
        template=outreach.template,
        mailbox=outreach.mailbox,
        by=outreach.member,
    ).started
    (claim,) = sending.claim_due()
    assert sending.send(claim) == "sent"
    return sequence.emails.get(step=0)


def reply(
    pitch,
    *,
    body="Sounds good, send me the details.",
    sender="Jo Novak <jo@runner-blog.example>",
    thread=True,
    subject=None,
    extra="",
):
    headers = [
        f"From: {sender}",
        "To: Mia Chen <mia@agency.example>",
        f"Subject: {subject or 'Re: ' + pitch.subject}",
        f"Date: {timezone.now().strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        "Message-ID: <reply-1@runner-blog.example>",
    ]
    if thread:
        headers += [f"In-Reply-To: {pitch.message_id}", f"References: {pitch.message_id}"]
    quoted = "\n".join(f"> {line}" for line in pitch.body.splitlines())
    return "\n".join(headers) + extra + f"\n\n{body}\n\nOn Tue, Mia Chen wrote:\n{quoted}\n"


def poll(outreach):
    result = replies.poll(outreach.mailbox.pk)
    assert result is not None
    assert not result.error, result
    return result


def test_a_threaded_reply_is_logged_moves_to_replied_and_stops_follow_ups(outreach, pitched):
    outreach.imap.deliver(reply(pitched))
    assert poll(outreach).matched == 1

    activity = OutreachActivity.objects.get(prospect=outreach.prospect, kind="reply")
    assert activity.summary == (
        "From jo@runner-blog.example: “Re: A resource for runner-blog.example”\n\n"
        "Sounds good, send me the details."
    )
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.REPLIED
    sequence = pitched.sequence
    sequence.refresh_from_db()
    assert (sequence.state, sequence.stop_reason) == ("stopped", "replied")
    assert dict(sequence.emails.values_list("step", "state")) == {
        0: "sent",
        1: "cancelled",
        2: "cancelled",
    }
    inbound = InboundEmail.objects.get()
    assert (inbound.kind, inbound.sequence, inbound.prospect) == (
        "reply",
        sequence,
        outreach.prospect,
    )
    # Nothing more goes out, whenever the dispatcher runs.
    assert sending.claim_due(now=timezone.now() + timedelta(days=30)) == []
    assert len(outreach.smtp.messages) == 1


def test_reading_again_logs_nothing_twice_and_leaves_mail_unread(outreach, pitched):
    outreach.imap.deliver(reply(pitched))
    poll(outreach)
    Mailbox.objects.filter(pk=outreach.mailbox.pk).update(imap_last_uid=None)
    again = poll(outreach)
    assert again.matched == 0
    assert OutreachActivity.objects.filter(kind="reply").count() == 1
    client = outreach.imap.connect()
    client.select("INBOX")
    _, unseen = client.search(None, "UNSEEN")
    client.logout()
    assert len(unseen[0].split()) == 1


def test_a_poll_reads_only_new_mail(outreach, pitched):
    outreach.imap.deliver(reply(pitched))
    assert poll(outreach).read == 1
    assert poll(outreach).read == 0
    outreach.imap.deliver(reply(pitched, body="One more thing.").replace("<reply-1@", "<reply-2@"))
    assert poll(outreach).read == 1
    assert OutreachActivity.objects.filter(kind="reply").count() == 2


def test_a_reply_without_thread_headers_matches_by_sender(outreach, pitched):
    outreach.imap.deliver(reply(pitched, thread=False, subject="your email"))
    assert poll(outreach).matched == 1
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.stop_reason == "replied"


def test_mail_from_strangers_is_kept_but_touches_nothing(outreach, pitched):
    outreach.imap.deliver(reply(pitched, thread=False, sender="spam@elsewhere.example"))
    assert poll(outreach).matched == 0
    assert InboundEmail.objects.get().sequence is None
    assert not OutreachActivity.objects.filter(kind="reply").exists()
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.state == "active"


def test_a_reply_after_the_last_follow_up_still_counts(outreach, pitched):
    Sequence.objects.filter(pk=pitched.sequence_id).update(state="finished")
    outreach.imap.deliver(reply(pitched))
    poll(outreach)
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.REPLIED
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.state == "finished"


DSN = """From: Mail Delivery System <MAILER-DAEMON@mx.runner-blog.example>
To: mia@agency.example
Subject: Undelivered Mail Returned to Sender
Date: Mon, 12 Jan 2026 10:00:00 +0000
Message-ID: <dsn-1@mx.runner-blog.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.runner-blog.example

Final-Recipient: rfc822; jo@runner-blog.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <jo@runner-blog.example>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

From: Mia Chen <mia@agency.example>
To: Jo Novak <jo@runner-blog.example>
Subject: A resource for runner-blog.example
Message-ID: {message_id}

--B--
"""


def test_a_delivery_status_bounce_marks_the_contact_invalid_and_stops(outreach, pitched):
    outreach.imap.deliver(DSN.format(message_id=pitched.message_id))
    assert poll(outreach).matched == 1
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is not None
    assert "5.1.1" in outreach.prospect.contact_invalid_reason
    assert "Recipient address rejected" in outreach.prospect.contact_invalid_reason
    pitched.sequence.refresh_from_db()
    assert (pitched.sequence.state, pitched.sequence.stop_reason) == ("stopped", "bounced")
    note = OutreachActivity.objects.get(prospect=outreach.prospect, kind="note")
    assert note.summary.startswith("Email to jo@runner-blog.example bounced: ")
    assert InboundEmail.objects.get().kind == "bounce"
    # The status is not a reply.
    assert outreach.prospect.status == Status.CONTACTED
    blocked = safety.safety_reasons(outreach.campaign, [outreach.prospect])
    assert "bounced" in blocked[outreach.prospect.pk][0]


def test_a_plain_mailer_daemon_notice_is_a_bounce_too(outreach, pitched):
    notice = f"""From: MAILER-DAEMON@mx.runner-blog.example
To: mia@agency.example
Subject: failure notice
Message-ID: <dsn-2@mx.runner-blog.example>

Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your
message to the following addresses.

<jo@runner-blog.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Message-ID: {pitched.message_id}
Subject: {pitched.subject}
"""
    outreach.imap.deliver(notice)
    poll(outreach)
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.stop_reason == "bounced"
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is not None


def test_a_delay_notice_is_not_a_bounce(outreach, pitched):
    delayed = DSN.format(message_id=pitched.message_id).replace("Action: failed", "Action: delayed")
    outreach.imap.deliver(delayed.replace("Status: 5.1.1", "Status: 4.4.7"))
    poll(outreach)
    assert InboundEmail.objects.get().kind == "notice"
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.state == "active"
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is None


def exim_failure(message_id: str) -> str:
    # Exim's own words (deliver.c), with the X-Failed-Recipients header it adds.
    return f"""From: Mail Delivery System <Mailer-Daemon@mx.runner-blog.example>
To: mia@agency.example
Subject: Mail delivery failed: returning message to sender
Message-ID: <E1vXyZ-0007Ab-3c@mx.runner-blog.example>
X-Failed-Recipients: jo@runner-blog.example
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jo@runner-blog.example
    host mx.runner-blog.example [192.0.2.25]
    SMTP error from remote mail server after RCPT TO:<jo@runner-blog.example>:
    550 5.1.1 User unknown

------ This is a copy of the message, including all the headers. ------

From: Mia Chen <mia@agency.example>
To: Jo Novak <jo@runner-blog.example>
Subject: A resource for runner-blog.example
Message-ID: {message_id}

Hi Jo,
"""


def postfix_failure(message_id: str) -> str:
    # A Postfix notice in its plain (non-DSN) form: multipart/mixed, the reason in
    # the part described as "notification", the original's headers after it.
    return f"""From: MAILER-DAEMON@mx.runner-blog.example (Mail Delivery System)
To: mia@agency.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <20260112100000.AB12C3D4E5@mx.runner-blog.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="PF"

--PF
Content-Description: Notification
Content-Type: text/plain

This is the Postfix program at host mx.runner-blog.example.

I'm sorry to have to inform you that the message returned
below could not be delivered to one or more destinations.

For further assistance, please contact <postmaster@runner-blog.example>

If you do so, please include this problem report. You can
delete your own text from the message returned below.

			The Postfix program

<jo@runner-blog.example>: unknown user: "jo"

--PF
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: Mia Chen <mia@agency.example>
To: Jo Novak <jo@runner-blog.example>
Subject: A resource for runner-blog.example
Message-ID: {message_id}

Hi Jo,

--PF--
"""


def assert_bounced(outreach, pitched):
    assert InboundEmail.objects.get().kind == "bounce"
    pitched.sequence.refresh_from_db()
    assert (pitched.sequence.state, pitched.sequence.stop_reason) == ("stopped", "bounced")
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is not None


def assert_untouched(outreach, pitched):
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.state == "active"
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is None
    assert not OutreachActivity.objects.filter(kind="note").exists()


def test_an_exim_permanent_failure_is_a_bounce(outreach, pitched):
    outreach.imap.deliver(exim_failure(pitched.message_id))
    assert poll(outreach).matched == 1
    assert_bounced(outreach, pitched)


def test_a_postfix_permanent_failure_is_a_bounce(outreach, pitched):
    outreach.imap.deliver(postfix_failure(pitched.message_id))
    assert poll(outreach).matched == 1
    assert_bounced(outreach, pitched)


def test_a_plain_text_delay_warning_from_mailer_daemon_is_not_a_bounce(outreach, pitched):
    warning = f"""From: Mail Delivery System <Mailer-Daemon@mx.runner-blog.example>
To: mia@agency.example
Subject: Warning: message 1vABCD-0001xY-2Q delayed 24 hours
Message-ID: <E1vABCD-0001xY-9Z@mx.runner-blog.example>
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.runner-blog.example.

The message identifier is:     1vABCD-0001xY-2Q
The subject of the message is: {pitched.subject}

The address to which the message has not yet been delivered is:

  jo@runner-blog.example
    Delay reason: SMTP error from remote mail server after RCPT TO:<jo@runner-blog.example>:
    451 4.7.1 Please try again later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered.

------ This is a copy of the message's headers. ------

Message-ID: {pitched.message_id}
"""
    outreach.imap.deliver(warning)
    poll(outreach)
    assert InboundEmail.objects.get().kind == "notice"
    assert_untouched(outreach, pitched)


def test_a_forged_bounce_naming_none_of_our_messages_does_nothing(outreach, pitched):
    forged = exim_failure("<never-sent@agency.example>")
    outreach.imap.deliver(forged)
    assert poll(outreach).matched == 0
    assert InboundEmail.objects.get().kind == "bounce"
    assert_untouched(outreach, pitched)


def test_a_megabyte_of_blank_lines_is_read_fast_and_passed(outreach, pitched):
    # The attack: 64 KB of these took 16 s and froze the worker, and the
    # UID did not advance, so the next poll froze too.
    outreach.imap.deliver(reply(pitched, body="\n" * (1024 * 1024)))
    started = time.perf_counter()
    assert poll(outreach).read == 1
    elapsed = time.perf_counter() - started
    # The IMAP round trip of a megabyte is in this too; the parsing alone is
    # budgeted at 0.5 s in test_mail_hostile.
    assert elapsed < 2.0, elapsed
    assert InboundEmail.objects.get().kind == "reply"
    assert poll(outreach).read == 0


def test_an_unsubscribe_reply_lists_the_address_and_stops(outreach, pitched):
    outreach.imap.deliver(reply(pitched, body="Please unsubscribe me, not interested."))
    poll(outreach)
    entry = DoNotContact.objects.get()
    assert (entry.kind, entry.value, entry.source) == (
        "email",
        "jo@runner-blog.example",
        "unsubscribe",
    )
    assert "Please unsubscribe me" in entry.reason
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.stop_reason == "unsubscribed"
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.LOST
    activity = OutreachActivity.objects.get(kind="reply")
    assert "asked not to be contacted again" in activity.summary
    # And no campaign may start on the address again.
    (reason,) = safety.safety_reasons(outreach.campaign, [outreach.prospect])[outreach.prospect.pk]
    assert "asked to unsubscribe" in reason


def test_the_one_click_unsubscribe_mail_is_understood(outreach, pitched):
    # What a mail client sends for our List-Unsubscribe: a new message, no thread
    # headers, the subject we asked for (which names our message).
    subject = f"unsubscribe {pitched.message_id}"
    outreach.imap.deliver(reply(pitched, body="", thread=False, subject=subject))
    poll(outreach)
    assert DoNotContact.objects.filter(value="jo@runner-blog.example").exists()
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.stop_reason == "unsubscribed"


def test_a_forged_unsubscribe_in_no_thread_does_nothing(outreach, pitched):
    # Anyone can write "From: jo@…": without one of our Message-IDs it neither
    # blocks the address for every campaign nor stops the sequence.
    outreach.imap.deliver(
        reply(pitched, body="Please unsubscribe me.", thread=False, subject="unsubscribe")
    )
    assert poll(outreach).matched == 0
    assert InboundEmail.objects.get().kind == "unsubscribe"
    assert InboundEmail.objects.get().sequence is None
    assert not DoNotContact.objects.exists()
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.state == "active"
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.CONTACTED


def test_quoted_text_does_not_make_an_unsubscribe(outreach, pitched):
    ScheduledEmail.objects.filter(pk=pitched.pk).update(body="Reply unsubscribe to opt out.")
    pitched.refresh_from_db()
    outreach.imap.deliver(reply(pitched, body="Yes please!"))
    poll(outreach)
    assert not DoNotContact.objects.exists()
    assert InboundEmail.objects.get().kind == "reply"


def test_an_out_of_office_reply_does_not_stop_the_sequence(outreach, pitched):
    outreach.imap.deliver(
        reply(
            pitched,
            body="I am away until Monday.",
            subject="Automatic reply: A resource for runner-blog.example",
            extra="\nAuto-Submitted: auto-replied",
        )
    )
    poll(outreach)
    pitched.sequence.refresh_from_db()
    assert pitched.sequence.state == "active"
    note = OutreachActivity.objects.get(kind="note")
    assert note.summary.startswith("Auto-reply from jo@runner-blog.example")
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == Status.CONTACTED


def test_an_html_only_reply_is_read_as_text(outreach, pitched):
    html = reply(pitched, body="<div><p>Great, <b>send it</b>.</p></div>")
    html = html.replace("Message-ID:", "Content-Type: text/html; charset=utf-8\nMessage-ID:")
    outreach.imap.deliver(html)
    poll(outreach)
    activity = OutreachActivity.objects.get(kind="reply")
    assert "Great," in activity.summary
    assert "send it" in activity.summary
    assert "<b>" not in activity.summary


def test_a_wrong_imap_password_is_shown_on_the_mailbox(outreach):
    from outreach.email.mailboxes import set_passwords

    set_passwords(outreach.mailbox, imap="wrong")
    outreach.mailbox.save()
    result = replies.poll(outreach.mailbox.pk)
    assert result.error
    outreach.mailbox.refresh_from_db()
    assert "IMAP 127.0.0.1" in outreach.mailbox.last_poll_error
    assert outreach.mailbox.poll_lease_until is None


def test_two_polls_at_once_do_not_read_the_same_mailbox(outreach):
    Mailbox.objects.filter(pk=outreach.mailbox.pk).update(
        poll_lease_until=timezone.now() + timedelta(minutes=5)
    )
    assert replies.poll(outreach.mailbox.pk) is None
