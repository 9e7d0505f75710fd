"""Reading the mailboxes: replies, unsubscribes, bounces and auto-replies.

Each poll reads INBOX from the last UID it saw (under the same UIDVALIDITY),
leaving messages unread. Every message is recorded once (``InboundEmail``, unique
per mailbox by UID and by Message-ID), so a poll that runs twice or crashes half
way never logs a reply twice. A message is matched to a sequence by its thread
headers (our Message-IDs in In-Reply-To/References, or inside a bounce), else,
for a reply or an auto-reply, by the sender's address among sequences this
mailbox sent to before the message arrived. Bounces and unsubscribes, which
stop sequences and block addresses, are matched by thread only: a forged one
that names none of our messages does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format

from outreach.email.models import (
    DoNotContact,
    InboundEmail,
    Mailbox,
    MailboxSecretMissing,
    ScheduledEmail,
    Sequence,
)
from outreach.email.sequences import mark_contact_invalid, stop_sequence
from outreach.email.wire import imap, message
from outreach.email.wire.message import Inbound
from outreach.models import CLOSED_STATUSES, OutreachActivity, Status
from outreach.services import change_status, log_activity

log = logging.getLogger(__name__)

POLL_LEASE = timedelta(minutes=10)
CLOCK_SKEW = timedelta(minutes=10)
SUMMARY_CHARS = 4000
# A reply moves the prospect to "replied" from these; later steps stay.
REPLY_MOVES_FROM = {
    Status.NEW,
    Status.QUALIFIED,
    Status.CONTACTED,
    Status.FOLLOWED_UP,
    Status.UNRESPONSIVE,
}


# Kinds that stop a sequence or block an address for every campaign: matched
# only through the thread (In-Reply-To/References, the original inside a
# bounce, our message's id in the unsubscribe subject), never by sender alone.
THREAD_ONLY = {"bounce", "unsubscribe"}


@dataclass(frozen=True)
class PollResult:
    read: int
    matched: int
    error: str = ""


def poll(mailbox_id: int, *, now: datetime | None = None) -> PollResult | None:
    """Read one mailbox's new mail. None when another worker is reading it, or it
    reads no replies."""
    now = now or timezone.now()
    leased = (
        Mailbox.objects.filter(pk=mailbox_id, is_active=True)
        .exclude(imap_host="")
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + POLL_LEASE)
    )
    if not leased:
        return None
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    read = matched = 0
    try:
        with imap.session(mailbox.imap_server()) as session:
            validity = session.select("INBOX")
            if validity is None:
                raise imap.ImapError("the mailbox has no INBOX")
            known = mailbox.imap_uidvalidity == validity and mailbox.imap_last_uid is not None
            after = mailbox.imap_last_uid if known else None
            # First read (or the server renumbered): only mail from around the
            # mailbox's creation on, not years of history.
            since = None if known else (mailbox.created_at - timedelta(days=1)).date()
            for uid in session.uids(after_uid=after, since=since)[: settings.OUTREACH_POLL_BATCH]:
                raw = session.fetch(uid, limit=message.MAX_RAW_BYTES)
                if raw is not None:
                    row = record(mailbox, raw, uidvalidity=validity, uid=uid, now=now)
                    read += 1
                    matched += bool(row and row.sequence_id)
                Mailbox.objects.filter(pk=mailbox.pk).update(
                    imap_uidvalidity=validity, imap_last_uid=uid
                )
            if not known:
                Mailbox.objects.filter(pk=mailbox.pk, imap_uidvalidity__isnull=True).update(
                    imap_uidvalidity=validity
                )
    except (imap.ImapError, MailboxSecretMissing) as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=now, last_poll_error=str(exc), poll_lease_until=None
        )
        log.warning("mailbox %s: %s", mailbox, exc)
        return PollResult(read, matched, str(exc))
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now, last_poll_error="", poll_lease_until=None
    )
    return PollResult(read, matched)


def record(
    mailbox: Mailbox, raw: bytes, *, uidvalidity: int, uid: int, now: datetime | None = None
) -> InboundEmail | None:
    """Read one message and act on it, once. None if it was recorded before."""
    now = now or timezone.now()
    inbound = message.read(raw)
    received = inbound.date if inbound.date and inbound.date <= now else now
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundEmail.objects.create(
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    message_id=inbound.message_id[:250],
                    kind=inbound.kind,
                    from_address=inbound.from_address[:254],
                    subject=inbound.subject[:300],
                    received_at=received,
                )
        except IntegrityError:
            return None
        sequence = match(mailbox, inbound, received=received)
        if sequence is None:
            return row
        row.sequence, row.prospect = sequence, sequence.prospect
        row.save(update_fields=["sequence", "prospect"])
        apply(sequence, inbound, received=received)
    return row


def match(mailbox: Mailbox, inbound: Inbound, *, received: datetime) -> Sequence | None:
    if inbound.referenced_ids:
        email = (
            ScheduledEmail.objects.filter(message_id__in=inbound.referenced_ids[:50])
            .select_related("sequence__prospect", "sequence__template")
            .order_by("-step")
            .first()
        )
        if email is not None:
            return email.sequence
    if inbound.kind in THREAD_ONLY:
        # Anyone can write "From: jo@…" or "From: MAILER-DAEMON": a bounce or an
        # unsubscribe acts only when it names a message we sent.
        return None
    addresses = [inbound.from_address] if inbound.from_address else []
    if not addresses:
        return None
    # Only sequences that had written to the sender before the message was
    # written (give or take the senders' clocks): an old conversation with the
    # same address is not a reply to us.
    sent_before = ScheduledEmail.objects.filter(
        sequence=OuterRef("pk"),
        state=ScheduledEmail.State.SENT,
        sent_at__lte=received + CLOCK_SKEW,
    )
    return (
        Sequence.objects.filter(mailbox=mailbox, to_email__in=[a.lower() for a in addresses])
        .filter(Exists(sent_before))
        .select_related("prospect", "template")
        .order_by("-started_at", "-pk")
        .first()
    )


def apply(sequence: Sequence, inbound: Inbound, *, received: datetime) -> None:
    prospect = sequence.prospect
    sender = inbound.from_address
    if inbound.kind == "bounce":
        reason = inbound.text[:400] or "bounced"
        # Our email to this address came back (the failed recipient named in the
        # report may be where it was forwarded to): the address is what failed.
        mark_contact_invalid(sequence.to_email, reason=reason, at=received)
        stop_sequence(sequence, reason=Sequence.StopReason.BOUNCED, at=received)
        log_activity(
            prospect,
            kind=OutreachActivity.Kind.NOTE,
            by=None,
            at=received,
            summary=f"Email to {sequence.to_email} bounced: {reason}",
        )
        return
    if inbound.kind == "notice":
        return
    if inbound.kind == "auto_reply":
        log_activity(
            prospect,
            kind=OutreachActivity.Kind.NOTE,
            by=None,
            at=received,
            summary=f"Auto-reply from {sender}: “{inbound.subject}”\n\n"
            + inbound.text[:SUMMARY_CHARS],
        )
        return
    heading = f"From {sender}: “{inbound.subject}”"
    if inbound.kind == "unsubscribe":
        when = date_format(timezone.localtime(received), "DATE_FORMAT")
        address = (sender or sequence.to_email).lower()
        DoNotContact.objects.get_or_create(
            kind=DoNotContact.Kind.EMAIL,
            value=address,
            defaults={
                "source": DoNotContact.Source.UNSUBSCRIBE,
                "reason": f"Replied on {when}: {inbound.text[:200] or inbound.subject}"[:300],
            },
        )
        stop_sequence(sequence, reason=Sequence.StopReason.UNSUBSCRIBED, at=received)
        for other in Sequence.objects.filter(to_email=address, state=Sequence.State.ACTIVE):
            stop_sequence(other, reason=Sequence.StopReason.UNSUBSCRIBED, at=received)
        log_activity(
            prospect,
            kind=OutreachActivity.Kind.REPLY,
            by=None,
            at=received,
            summary=f"{heading} — asked not to be contacted again (added to the "
            f"do-not-contact list)\n\n{inbound.text[:SUMMARY_CHARS]}",
        )
        if prospect.status not in CLOSED_STATUSES:
            change_status(prospect, to_status=Status.LOST, by=None, at=received)
        return
    stop_sequence(sequence, reason=Sequence.StopReason.REPLIED, at=received)
    log_activity(
        prospect,
        kind=OutreachActivity.Kind.REPLY,
        by=None,
        at=received,
        summary=f"{heading}\n\n{inbound.text[:SUMMARY_CHARS]}",
    )
    if prospect.status in REPLY_MOVES_FROM:
        change_status(prospect, to_status=Status.REPLIED, by=None, at=received)
