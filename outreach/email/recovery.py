"""After a crash: emails a dead worker left "sending" go back to the queue (they
never reached DATA) or are looked up in the mailbox's Sent folder; what cannot be
settled that way waits for a person (``resolve_by_hand``). Nothing here ever
sends an email again on its own."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from outreach.email import sequences
from outreach.email.models import (
    Mailbox,
    MailboxSecretMissing,
    ScheduledEmail,
    Sequence,
)
from outreach.email.wire import imap

if TYPE_CHECKING:
    from campaigns.models import User

log = logging.getLogger(__name__)

Email = ScheduledEmail.State


def in_sent_folder(mailbox: Mailbox, message_id: str) -> bool:
    with imap.session(mailbox.imap_server()) as session:
        return any(
            session.has_message_id(folder, message_id)
            for folder in session.sent_folders(mailbox.sent_folder)
        )


def resolve_transmitted(email: ScheduledEmail, *, token: uuid.UUID, error: str) -> str:
    """An email whose DATA began but whose outcome is unknown. If the mailbox's
    Sent folder holds its Message-ID, it left: record it. Otherwise it becomes
    'uncertain' and waits for a person; it is never sent again on its own, because
    an email missing from Sent may still have been delivered (many providers do
    not file SMTP-sent mail)."""
    mailbox = email.mailbox
    detail = error
    if mailbox.reads_replies:
        try:
            if in_sent_folder(mailbox, email.message_id):
                sequences.mark_sent(
                    email.pk,
                    token=token,
                    at=email.transmit_started_at or timezone.now(),
                    note="found in the Sent folder after an interrupted send",
                )
                return "sent"
            detail += f" It is not in the Sent folder “{mailbox.sent_folder}”."
        except (imap.ImapError, MailboxSecretMissing) as exc:
            detail += f" The Sent folder could not be checked: {exc}"
    else:
        detail += " The mailbox has no IMAP settings, so its Sent folder cannot be checked."
    ScheduledEmail.objects.filter(pk=email.pk, claim_token=token, state=Email.SENDING).update(
        state=Email.UNCERTAIN, last_error=detail
    )
    log.warning("email %s uncertain: %s", email.pk, detail)
    return "uncertain"


def recover_stale(*, now: datetime | None = None) -> dict[str, int]:
    """Emails left 'sending' by a worker that died (older than the lease). Those
    that never reached DATA go back to the queue: nothing left. The others are
    looked up in the Sent folder (``resolve_transmitted``)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTREACH_SEND_LEASE_SECONDS)
    stale = ScheduledEmail.objects.filter(state=Email.SENDING, claimed_at__lt=cutoff)
    requeued = stale.filter(transmit_started_at__isnull=True).update(
        state=Email.QUEUED, claim_token=None, claimed_at=None
    )
    outcomes = {"requeued": requeued, "sent": 0, "uncertain": 0}
    for email in stale.filter(transmit_started_at__isnull=False).select_related("mailbox"):
        outcome = resolve_transmitted(
            email,
            token=email.claim_token,
            error="The worker sending it stopped after handing it to the server.",
        )
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def resolve_by_hand(email: ScheduledEmail, *, was_sent: bool, by: User | None) -> None:
    """A person's answer for an 'uncertain' email, after looking in the mailbox."""
    if email.state != Email.UNCERTAIN:
        raise ValidationError("This email is no longer waiting for a decision.")
    if was_sent:
        who = by.get_username() if by else "someone"
        sequences.mark_sent(
            email.pk,
            at=email.transmit_started_at or timezone.now(),
            note=f"confirmed as sent by {who}",
        )
        return
    with transaction.atomic():
        active = Sequence.objects.filter(pk=email.sequence_id, state=Sequence.State.ACTIVE).exists()
        rows = ScheduledEmail.objects.filter(pk=email.pk, state=Email.UNCERTAIN)
        if active:
            # Same Message-ID: if it did arrive after all, mail clients show one.
            rows.update(
                state=Email.QUEUED,
                claim_token=None,
                claimed_at=None,
                transmit_started_at=None,
                due_at=timezone.now(),
                last_error="",
            )
        else:
            rows.update(state=Email.CANCELLED, claim_token=None)
