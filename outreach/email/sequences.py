"""Sequences: starting them (one prospect or a selection) under the safety rules,
stopping them, and recording what happened to their emails (sent, bounced), which
moves the prospect along the pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from campaigns.models import Campaign
from outreach.email import mailboxes, safety, templates
from outreach.email.models import (
    EmailTemplate,
    Mailbox,
    ScheduledEmail,
    Sequence,
)
from outreach.email.wire import merge
from outreach.models import OutreachActivity, Prospect, Status
from outreach.services import change_status, log_activity

if TYPE_CHECKING:
    from campaigns.models import User

Email = ScheduledEmail.State
StopReason = Sequence.StopReason


# Sending moves a prospect forward only from earlier steps of the pipeline; a
# prospect already negotiating stays where the member put it.
MOVES_TO = {
    Status.CONTACTED: {Status.NEW, Status.QUALIFIED},
    Status.FOLLOWED_UP: {Status.NEW, Status.QUALIFIED, Status.CONTACTED},
}


@dataclass(frozen=True)
class Blocked:
    prospect: Prospect
    reasons: list[str]


@dataclass
class StartResult:
    started: list[Sequence] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)


def check_choice(campaign: Campaign, template: EmailTemplate, mailbox: Mailbox) -> None:
    if template.campaign_id != campaign.pk or template.is_archived:
        raise ValidationError("Choose one of this campaign's templates.")
    if not mailboxes.for_campaign(campaign).filter(pk=mailbox.pk).exists():
        raise ValidationError("Choose a mailbox this campaign may send from.")


def new_message_id(mailbox: Mailbox) -> str:
    return f"<{uuid.uuid4().hex}@{mailbox.domain}>"


def start_sequences(
    campaign: Campaign,
    *,
    prospect_ids: Iterable[int],
    template: EmailTemplate,
    mailbox: Mailbox,
    by: User | None,
    now: datetime | None = None,
) -> StartResult:
    """Schedule the template's pitch (due now) and follow-ups for each prospect
    that passes the safety rules and has a value for every merge field; the others
    come back with their reasons. A fixed number of queries for any selection."""
    now = now or timezone.now()
    check_choice(campaign, template, mailbox)
    prospects = list(
        Prospect.objects.filter(campaign=campaign, pk__in=list(prospect_ids))
        .select_related("offered_target")
        .order_by("pk")
    )
    follow_ups = list(template.follow_ups.all())
    target_url = templates.top_target_url(campaign)
    reasons = safety.safety_reasons(campaign, prospects, now=now)
    result = StartResult()
    planned: list[tuple[Prospect, list[templates.RenderedEmail]]] = []
    domains: set[str] = set()
    for prospect in prospects:
        why = list(reasons.get(prospect.pk, []))
        if prospect.domain in domains:
            why.append(f"Another selected prospect on {prospect.domain} gets this sequence.")
        values = templates.merge_values(
            prospect, campaign=campaign, mailbox=mailbox, target_url=target_url
        )
        try:
            emails = templates.render_emails(template, follow_ups, values)
        except merge.MissingValues as exc:
            why.append(str(exc))
        if why:
            result.blocked.append(Blocked(prospect, why))
            continue
        domains.add(prospect.domain)
        planned.append((prospect, emails))
    if not planned:
        return result
    try:
        with transaction.atomic():
            sequences = Sequence.objects.bulk_create(
                Sequence(
                    campaign=campaign,
                    prospect=prospect,
                    template=template,
                    mailbox=mailbox,
                    domain=prospect.domain,
                    to_email=prospect.contact_email.lower(),
                    started_by=by,
                    started_at=now,
                )
                for prospect, _ in planned
            )
            rows = []
            for sequence, (_, emails) in zip(sequences, planned, strict=True):
                ids: list[str] = []
                for rendered in emails:
                    message_id = new_message_id(mailbox)
                    rows.append(
                        ScheduledEmail(
                            sequence=sequence,
                            mailbox=mailbox,
                            step=rendered.step,
                            delay_days=rendered.delay_days,
                            to_email=sequence.to_email,
                            subject=rendered.subject,
                            body=rendered.body,
                            message_id=message_id,
                            # Each follow-up answers the one before it and lists the
                            # whole thread, so mail clients keep one conversation.
                            in_reply_to=ids[-1] if ids else "",
                            references=" ".join(ids),
                            due_at=now + timedelta(days=rendered.delay_days),
                        )
                    )
                    ids.append(message_id)
            ScheduledEmail.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise ValidationError(
            "Another sequence to one of these domains started at the same moment. Try again."
        ) from exc
    result.started = sequences
    return result


@transaction.atomic
def stop_sequence(sequence: Sequence, *, reason: str, at: datetime | None = None) -> bool:
    """Stop at once: cancel every email not yet handed to the server, including
    one a worker has claimed but not begun to transmit (it checks before DATA).
    Returns whether the sequence was still active."""
    at = at or timezone.now()
    changed = Sequence.objects.filter(pk=sequence.pk, state=Sequence.State.ACTIVE).update(
        state=Sequence.State.STOPPED, stop_reason=StopReason(reason), ended_at=at
    )
    ScheduledEmail.objects.filter(sequence=sequence).filter(
        Q(state=Email.QUEUED) | Q(state=Email.SENDING, transmit_started_at__isnull=True)
    ).update(state=Email.CANCELLED, claim_token=None)
    if changed:
        sequence.state, sequence.stop_reason, sequence.ended_at = "stopped", reason, at
    return bool(changed)


@transaction.atomic
def mark_sent(
    email_id: int,
    *,
    token: uuid.UUID | None = None,
    at: datetime,
    server_reply: str = "",
    note: str = "",
) -> bool:
    """Record that an email left: its activity on the timeline, the prospect's
    status, the follow-ups' dates counted from now, the sequence finished after its
    last email. Only from sending or uncertain (and with ``token``, only for that
    claim), so it happens once."""
    rows = ScheduledEmail.objects.select_for_update(of=("self",)).filter(
        pk=email_id, state__in=[Email.SENDING, Email.UNCERTAIN]
    )
    if token is not None:
        rows = rows.filter(claim_token=token)
    email = rows.select_related("sequence__prospect", "sequence__started_by", "mailbox").first()
    if email is None:
        return False
    sequence, prospect = email.sequence, email.sequence.prospect
    kind = (
        OutreachActivity.Kind.FOLLOW_UP if email.is_follow_up else OutreachActivity.Kind.EMAIL_SENT
    )
    summary = f"“{email.subject}” to {email.to_email} from {email.mailbox.email}"
    if note:
        summary += f" ({note})"
    activity = log_activity(
        prospect, kind=kind, by=sequence.started_by, summary=f"{summary}\n\n{email.body}", at=at
    )
    ScheduledEmail.objects.filter(pk=email.pk).update(
        state=Email.SENT,
        sent_at=at,
        claim_token=None,
        last_error=server_reply[:500],
        activity=activity,
    )
    target = Status.FOLLOWED_UP if email.is_follow_up else Status.CONTACTED
    if prospect.status in MOVES_TO[target]:
        change_status(prospect, to_status=target, by=sequence.started_by, at=at)
    # Follow-ups count from when the email before them actually left, not from
    # when the sequence was scheduled (hours and limits may have held it back).
    for later in ScheduledEmail.objects.filter(
        sequence=sequence, state=Email.QUEUED, step__gt=email.step
    ):
        later.due_at = at + timedelta(days=later.delay_days - email.delay_days)
        later.save(update_fields=["due_at"])
    pending = ScheduledEmail.objects.filter(
        sequence=sequence, state__in=[Email.QUEUED, Email.SENDING, Email.UNCERTAIN]
    ).exclude(pk=email.pk)
    if not pending.exists():
        Sequence.objects.filter(pk=sequence.pk, state=Sequence.State.ACTIVE).update(
            state=Sequence.State.FINISHED, ended_at=at
        )
    return True


def mark_contact_invalid(address: str, *, reason: str, at: datetime | None = None) -> int:
    """Every prospect with this contact address: flag it, stop its sequences."""
    at = at or timezone.now()
    address = address.lower()
    count = Prospect.objects.filter(
        contact_email__iexact=address, contact_invalid_at__isnull=True
    ).update(contact_invalid_at=at, contact_invalid_reason=reason[:500], updated_at=at)
    for sequence in Sequence.objects.filter(to_email=address, state=Sequence.State.ACTIVE):
        stop_sequence(sequence, reason=StopReason.BOUNCED, at=at)
    return count


def clear_contact_invalid(prospect: Prospect) -> None:
    """The address was corrected: sequences may start to it again."""
    at = timezone.now()
    Prospect.objects.filter(pk=prospect.pk).update(
        contact_invalid_at=None, contact_invalid_reason="", updated_at=at
    )
    prospect.contact_invalid_at, prospect.contact_invalid_reason = None, ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def start_for_selection(
    campaign: Campaign, *, ids: list[int], template_id: Any, mailbox_id: Any, by: User | None
) -> str:
    """The prospect list's bulk action. Returns the notice; raises ValidationError."""
    template = EmailTemplate.objects.filter(
        campaign=campaign, is_archived=False, pk=template_id
    ).first()
    mailbox = mailboxes.for_campaign(campaign).filter(pk=mailbox_id).first()
    if template is None or mailbox is None:
        raise ValidationError("Choose a template and a mailbox for the sequence.")
    result = start_sequences(campaign, prospect_ids=ids, template=template, mailbox=mailbox, by=by)
    notice = f"Started {_plural(len(result.started), 'sequence')} with “{template.name}”."
    if result.blocked:
        skipped = "; ".join(
            f"{b.prospect.domain}: {' '.join(b.reasons)}" for b in result.blocked[:10]
        )
        more = f" (and {len(result.blocked) - 10} more)" if len(result.blocked) > 10 else ""
        notice += f" Skipped {len(result.blocked)}: {skipped}{more}"
    if not result.started:
        # Nothing happened: shown as an error, with every reason.
        raise ValidationError(notice)
    return notice


def bulk_choices(campaign: Campaign) -> dict[str, Any]:
    """The template and mailbox drop-downs of the prospect list's bulk bar."""
    return {
        "templates": list(
            EmailTemplate.objects.filter(campaign=campaign, is_archived=False).order_by("name")
        ),
        "mailboxes": list(mailboxes.for_campaign(campaign)),
    }


PANEL_SEQUENCES = 5


def panel_context(campaign: Campaign, prospect: Prospect) -> dict[str, Any]:
    """What the prospect page's email panel shows; a fixed number of queries."""
    sequences = list(
        Sequence.objects.filter(prospect=prospect)
        .select_related("template", "mailbox", "started_by")
        .prefetch_related(Prefetch("emails", queryset=ScheduledEmail.objects.order_by("step")))[
            :PANEL_SEQUENCES
        ]
    )
    return {
        **bulk_choices(campaign),
        "sequences": sequences,
        "has_active": any(s.state == Sequence.State.ACTIVE for s in sequences),
    }
