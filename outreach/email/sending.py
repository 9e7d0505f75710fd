"""Sending: claiming the emails that may go now (within each mailbox's hours and
daily limit) and sending one claimed email.

Sending never sends an email twice and never loses one: see ``ScheduledEmail``
for the states, ``send`` for the order of writes around SMTP, and
``recovery`` for what happens after a worker dies.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from outreach.email import mailboxes, recovery, safety, sequences
from outreach.email.models import (
    Mailbox,
    MailboxSecretMissing,
    ScheduledEmail,
    Sequence,
)
from outreach.email.wire import message, transport
from outreach.models import OutreachActivity
from outreach.services import log_activity

log = logging.getLogger(__name__)

Email = ScheduledEmail.State
StopReason = Sequence.StopReason


@dataclass(frozen=True)
class Claim:
    """An email handed to a send task. The token must still be on the row for the
    task to act, so a duplicate or late task does nothing."""

    email_id: int
    token: uuid.UUID


def claim_due(*, now: datetime | None = None) -> list[Claim]:
    """Claim the emails that may go now: due, in their mailbox's sending hours,
    within its daily limit (and the per-minute pace), and only after every
    earlier step of their sequence was sent."""
    now = now or timezone.now()
    claims: list[Claim] = []
    for mailbox in Mailbox.objects.filter(is_active=True).order_by("pk"):
        if mailboxes.in_window(mailbox, now):
            claims += _claim_for(mailbox, now)
    return claims


def _claim_for(mailbox: Mailbox, now: datetime) -> list[Claim]:
    with transaction.atomic():
        # One claimer per mailbox at a time, so two dispatchers cannot both see
        # room under the limit and together go over it.
        locked = Mailbox.objects.select_for_update().filter(pk=mailbox.pk, is_active=True)
        if not locked.exists():
            return []
        room = min(
            mailbox.daily_limit - mailboxes.used_today(mailbox, now),
            settings.OUTREACH_SENDS_PER_MINUTE,
        )
        if room <= 0:
            return []
        earlier_unsent = ScheduledEmail.objects.filter(
            sequence=OuterRef("sequence"), step__lt=OuterRef("step")
        ).exclude(state=Email.SENT)
        # No join to the sequence: only active sequences have queued emails
        # (stopping cancels them, finishing needs none left), and the sender checks
        # the sequence again before DATA. Without the join the plan stays an index
        # scan even when a bulk start has just made the table's statistics stale.
        ids = list(
            ScheduledEmail.objects.filter(mailbox=mailbox, state=Email.QUEUED, due_at__lte=now)
            .exclude(Exists(earlier_unsent))
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:room]
        )
        if not ids:
            return []
        token = uuid.uuid4()
        ScheduledEmail.objects.filter(pk__in=ids, state=Email.QUEUED).update(
            state=Email.SENDING,
            claim_token=token,
            claimed_at=now,
            transmit_started_at=None,
            attempts=F("attempts") + 1,
        )
        claimed = ScheduledEmail.objects.filter(pk__in=ids, claim_token=token)
        return [Claim(pk, token) for pk in claimed.values_list("pk", flat=True)]


# --- sending ----------------------------------------------------------------------


def send(claim: Claim) -> str:
    """Send one claimed email. Returns what happened: sent, skipped (not ours any
    more), blocked, cancelled, retry, failed or uncertain.

    The writes around SMTP, in order: the claim (state sending, token); after
    RCPT, ``transmit_started_at`` by a conditional UPDATE that also fails if the
    sequence was stopped meanwhile; after the server accepts DATA, state sent.
    """
    email = (
        ScheduledEmail.objects.select_related("sequence__prospect", "sequence__campaign", "mailbox")
        .filter(
            pk=claim.email_id,
            claim_token=claim.token,
            state=Email.SENDING,
            transmit_started_at__isnull=True,
        )
        .first()
    )
    if email is None:
        return "skipped"
    blocker = safety.send_blocker(email)
    if blocker is not None:
        reason, text = blocker
        _cancel_blocked(email, claim, reason=reason, text=text)
        return "blocked"
    mailbox = email.mailbox
    try:
        server = mailbox.smtp_server()
    except MailboxSecretMissing as exc:
        return _release(email, claim, error=str(exc), mailbox_problem=True)
    payload = message.to_bytes(message.build(_outgoing(email)))
    try:
        with transport.smtp(server) as session:
            session.envelope(mailbox.email, email.to_email)
            if not _begin_transmit(claim):
                return "cancelled"
            try:
                reply = session.data(payload)
            except transport.Ambiguous as exc:
                return recovery.resolve_transmitted(email, token=claim.token, error=str(exc))
            except (transport.PermanentFailure, transport.TemporaryFailure):
                # The server answered DATA with a refusal: it took nothing.
                ScheduledEmail.objects.filter(pk=email.pk, claim_token=claim.token).update(
                    transmit_started_at=None
                )
                raise
            # Recorded before QUIT: the window in which a crash leaves the outcome
            # unknown is as short as it can be.
            sequences.mark_sent(email.pk, token=claim.token, at=timezone.now(), server_reply=reply)
    except transport.LoginRefused as exc:
        return _release(email, claim, error=f"Login refused: {exc}", mailbox_problem=True)
    except transport.HostRefused as exc:
        return _release(email, claim, error=str(exc), mailbox_problem=True)
    except transport.PermanentFailure as exc:
        _fail(email, claim, exc)
        return "failed"
    except transport.TemporaryFailure as exc:
        return _release(email, claim, error=str(exc))
    if mailbox.last_send_error:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_send_error="")
    return "sent"


def _outgoing(email: ScheduledEmail) -> message.Outgoing:
    prospect = email.sequence.prospect
    return message.Outgoing(
        from_name=email.mailbox.from_name,
        from_address=email.mailbox.email,
        to_name=" ".join(prospect.contact_name.split()),
        to_address=email.to_email,
        subject=email.subject,
        body=email.body,
        message_id=email.message_id,
        date=timezone.now(),
        in_reply_to=email.in_reply_to,
        references=tuple(email.references.split()),
        unsubscribe_address=email.mailbox.email,
    )


def _cancel_blocked(email: ScheduledEmail, claim: Claim, *, reason: str, text: str) -> None:
    with transaction.atomic():
        cancelled = ScheduledEmail.objects.filter(
            pk=email.pk, claim_token=claim.token, state=Email.SENDING
        ).update(state=Email.CANCELLED, claim_token=None, last_error=text)
        if cancelled and reason and sequences.stop_sequence(email.sequence, reason=reason):
            log_activity(
                email.sequence.prospect,
                kind=OutreachActivity.Kind.NOTE,
                by=None,
                summary=f"Sequence “{email.sequence.template}” stopped. {text}",
            )


def _begin_transmit(claim: Claim) -> bool:
    """The last word before DATA: still claimed by us and the sequence still
    active. A reply that arrived a moment ago wins here."""
    return bool(
        ScheduledEmail.objects.filter(
            pk=claim.email_id,
            claim_token=claim.token,
            state=Email.SENDING,
            transmit_started_at__isnull=True,
            sequence__state=Sequence.State.ACTIVE,
        ).update(transmit_started_at=timezone.now())
    )


def _release(
    email: ScheduledEmail, claim: Claim, *, error: str, mailbox_problem: bool = False
) -> str:
    """Nothing was transmitted: queue it again, later. A mailbox problem (login,
    password) is the mailbox's, so it does not use up the email's attempts."""
    now = timezone.now()
    if not mailbox_problem and email.attempts >= settings.OUTREACH_MAX_ATTEMPTS:
        _fail(
            email,
            claim,
            transport.PermanentFailure(0, f"gave up after {email.attempts} tries: {error}"),
        )
        return "failed"
    minutes = 15 if mailbox_problem else min(5 * 2 ** max(email.attempts - 1, 0), 240)
    ScheduledEmail.objects.filter(pk=email.pk, claim_token=claim.token, state=Email.SENDING).update(
        state=Email.QUEUED,
        claim_token=None,
        claimed_at=None,
        transmit_started_at=None,
        due_at=now + timedelta(minutes=minutes),
        last_error=error,
        attempts=F("attempts") - 1 if mailbox_problem else F("attempts"),
    )
    if mailbox_problem:
        Mailbox.objects.filter(pk=email.mailbox_id).update(last_send_error=error)
    log.warning("email %s not sent, retry in %d min: %s", email.pk, minutes, error)
    return "retry"


def _fail(email: ScheduledEmail, claim: Claim, exc: transport.PermanentFailure) -> None:
    """The server refused for good. A refused recipient is a bounce at the door."""
    sequence, prospect = email.sequence, email.sequence.prospect
    with transaction.atomic():
        failed = ScheduledEmail.objects.filter(
            pk=email.pk, claim_token=claim.token, state=Email.SENDING
        ).update(state=Email.FAILED, claim_token=None, last_error=str(exc))
        if not failed:
            return
        if exc.recipient_refused:
            sequences.mark_contact_invalid(email.to_email, reason=f"refused by the server: {exc}")
            sequences.stop_sequence(sequence, reason=StopReason.BOUNCED)
        else:
            sequences.stop_sequence(sequence, reason=StopReason.FAILED)
        log_activity(
            prospect,
            kind=OutreachActivity.Kind.NOTE,
            by=None,
            summary=f"“{email.subject}” could not be sent to {email.to_email}: {exc}",
        )
