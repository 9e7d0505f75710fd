"""Outreach sequences: starting them under the safety rules, sending their emails
within each mailbox's hours and daily limit, and stopping them.

The safety rules, checked when a sequence starts and again before each email
leaves (each with a reason a member can act on):

1. no contact email, or an address that bounced;
2. the address or the domain is on the do-not-contact list;
3. another campaign wrote to the domain in the last
   ``OUTREACH_DOMAIN_COOLDOWN_DAYS`` days (an email or a follow-up, sent by
   Anchorage or logged by hand);
4. a sequence to the domain is already running (also a database constraint, so
   two members clicking at once cannot both start one).

"Domain" in rules 3 and 4 is the prospect's site, its registrable domain
(``Prospect.domain``): ``blog.x.com`` and ``x.com`` are one site, pitched once.
The do-not-contact list in rule 2 matches the prospect's host and its parents
instead, so that an entry for ``blog.x.com`` blocks that blog and below but
leaves the rest of ``x.com`` open, while an entry for ``x.com`` blocks it all.

Sending never sends an email twice and never loses one: see ``ScheduledEmail``
for the states, ``send`` for the order of writes around SMTP, and
``recover_stale`` for what happens after a worker dies.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format

from campaigns.models import Campaign, TargetPage
from links.verification.urls import InvalidURL, host_of
from outreach import mailboxes
from outreach.mail import merge, message, transport
from outreach.models import (
    DoNotContact,
    EmailTemplate,
    Mailbox,
    OutreachActivity,
    Prospect,
    ScheduledEmail,
    Sequence,
    Status,
    TemplateFollowUp,
)
from outreach.services import change_status, log_activity

if TYPE_CHECKING:
    from campaigns.models import User

log = logging.getLogger(__name__)

Email = ScheduledEmail.State
StopReason = Sequence.StopReason

# Sending moves a prospect forward only from earlier steps of the pipeline; a
# prospect already negotiating stays where the member put it.
MOVES_TO = {
    Status.CONTACTED: {Status.NEW, Status.QUALIFIED},
    Status.FOLLOWED_UP: {Status.NEW, Status.QUALIFIED, Status.CONTACTED},
}
CONTACT_KINDS = [OutreachActivity.Kind.EMAIL_SENT, OutreachActivity.Kind.FOLLOW_UP]


# --- merge fields -----------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    step: int
    delay_days: int
    subject: str
    body: str


def top_target_url(campaign: Campaign) -> str:
    """The campaign's highest-priority target page: ``{{ target_url }}`` for
    prospects that were not offered a specific page."""
    target = TargetPage.objects.filter(campaign=campaign).order_by("priority", "url").first()
    return target.url if target else ""


def merge_values(
    prospect: Prospect, *, campaign: Campaign, mailbox: Mailbox | None, target_url: str = ""
) -> dict[str, str]:
    """The whitelisted values a template may use. Strings only: a template can
    reach nothing else."""
    name = " ".join(prospect.contact_name.split())
    offered = prospect.offered_target.url if prospect.offered_target_id else ""
    deadline = ""
    if prospect.deadline:
        deadline = date_format(timezone.localtime(prospect.deadline), "DATETIME_FORMAT")
    return {
        "first_name": name.split(" ")[0] if name else "",
        "contact_name": name,
        "contact_email": prospect.contact_email,
        "site": prospect.domain,
        "url": prospect.url,
        "target_url": offered or target_url,
        "dead_url": prospect.dead_url,
        "our_site": campaign.site,
        "campaign": campaign.name,
        "niche": prospect.niche,
        "domain_rating": "" if prospect.domain_rating is None else str(prospect.domain_rating),
        "outlet": prospect.outlet,
        "query_text": prospect.query_text,
        "deadline": deadline,
        "fee": "" if prospect.fee is None else str(prospect.fee),
        "sender_name": mailbox.from_name if mailbox else "",
    }


def render_emails(
    template: EmailTemplate, follow_ups: Seq[TemplateFollowUp], values: dict[str, str]
) -> list[RenderedEmail]:
    """The pitch and its follow-ups for one prospect. Raises MissingValues naming
    every empty field of every email at once, so one fix is enough."""
    missing: list[str] = []
    emails: list[RenderedEmail] = []

    def attempt(text: str) -> str:
        try:
            return merge.render(text, values)
        except merge.MissingValues as exc:
            missing.extend(n for n in exc.names if n not in missing)
            return ""

    subject = " ".join(attempt(template.subject).split())
    emails.append(RenderedEmail(0, 0, subject, attempt(template.body)))
    for step, follow_up in enumerate(follow_ups, start=1):
        emails.append(
            RenderedEmail(step, follow_up.delay_days, f"Re: {subject}", attempt(follow_up.body))
        )
    if missing:
        raise merge.MissingValues(tuple(missing))
    return emails


# --- safety rules -----------------------------------------------------------------


def _parent_domains(domain: str) -> list[str]:
    """``blog.acme.example`` → itself, ``acme.example``: a listed domain covers its
    subdomains."""
    parts = [p for p in domain.lower().strip(".").split(".") if p]
    if len(parts) < 2:
        return [".".join(parts)] if parts else []
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


def _host(prospect: Prospect) -> str:
    """The host the do-not-contact list is matched against (``www.`` aside)."""
    try:
        return host_of(prospect.url)
    except InvalidURL:
        return prospect.domain


def _email_domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _dnc_reason(entry: DoNotContact) -> str:
    when = date_format(timezone.localtime(entry.created_at), "DATE_FORMAT")
    if entry.source == DoNotContact.Source.UNSUBSCRIBE:
        why = f"asked to unsubscribe on {when}"
    else:
        why = f"added on {when}" + (f": {entry.reason}" if entry.reason else "")
    return f"{entry.value} is on the do-not-contact list ({why})."


def do_not_contact_hits(
    contacts: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], DoNotContact]:
    """For (email, site host) pairs, the do-not-contact entry that blocks each,
    in one query. A domain entry blocks the host and addresses at it, subdomains
    included, but not its parent domain or sibling subdomains."""
    contacts = list(contacts)
    emails = {email.lower() for email, _ in contacts if email}
    domains: set[str] = set()
    for email, site in contacts:
        domains.update(_parent_domains(site))
        if email:
            domains.update(_parent_domains(_email_domain(email)))
    if not emails and not domains:
        return {}
    entries = DoNotContact.objects.filter(
        Q(kind=DoNotContact.Kind.EMAIL, value__in=emails)
        | Q(kind=DoNotContact.Kind.DOMAIN, value__in=domains)
    )
    by_key = {(e.kind, e.value): e for e in entries}
    hits = {}
    for email, site in contacts:
        entry = by_key.get((DoNotContact.Kind.EMAIL, email.lower()))
        candidates = _parent_domains(site) + (
            _parent_domains(_email_domain(email)) if email else []
        )
        for domain in candidates:
            entry = entry or by_key.get((DoNotContact.Kind.DOMAIN, domain))
        if entry:
            hits[(email, site)] = entry
    return hits


def cooldown_hits(
    campaign: Campaign, domains: Iterable[str], *, now: datetime
) -> dict[str, tuple[str, datetime]]:
    """Domains another campaign wrote to within the cooldown: domain → (that
    campaign's name, when), in one query."""
    days = settings.OUTREACH_DOMAIN_COOLDOWN_DAYS
    domains = set(domains)
    if days <= 0 or not domains:
        return {}
    rows = (
        OutreachActivity.objects.filter(
            kind__in=CONTACT_KINDS,
            occurred_at__gte=now - timedelta(days=days),
            occurred_at__lte=now,
            prospect__domain__in=domains,
        )
        .exclude(prospect__campaign=campaign)
        .values("prospect__domain", "prospect__campaign__name")
        .annotate(last=Max("occurred_at"))
        .order_by()
    )
    hits: dict[str, tuple[str, datetime]] = {}
    for row in rows:
        domain = row["prospect__domain"]
        if domain not in hits or row["last"] > hits[domain][1]:
            hits[domain] = (row["prospect__campaign__name"], row["last"])
    return hits


def _cooldown_reason(domain: str, other: str, last: datetime, now: datetime) -> str:
    days = settings.OUTREACH_DOMAIN_COOLDOWN_DAYS
    ago = max(0, (now - last).days)
    until = date_format(timezone.localtime(last + timedelta(days=days)), "DATE_FORMAT")
    when = "today" if ago == 0 else f"{ago} day{'s' if ago != 1 else ''} ago"
    return (
        f"Campaign “{other}” wrote to {domain} {when}; no new outreach to it until "
        f"{until} ({days}-day cooldown between campaigns)."
    )


def safety_reasons(
    campaign: Campaign, prospects: Seq[Prospect], *, now: datetime | None = None
) -> dict[int, list[str]]:
    """Why each prospect may not get a new sequence now (prospect id → reasons;
    absent means allowed). Three queries however many prospects."""
    now = now or timezone.now()
    reasons: dict[int, list[str]] = {p.pk: [] for p in prospects}
    for prospect in prospects:
        if not prospect.contact_email:
            reasons[prospect.pk].append("No contact email: add one to the prospect first.")
        if prospect.contact_invalid_at:
            when = date_format(timezone.localtime(prospect.contact_invalid_at), "DATE_FORMAT")
            detail = (
                f" ({prospect.contact_invalid_reason})" if prospect.contact_invalid_reason else ""
            )
            reasons[prospect.pk].append(
                f"Mail to this contact bounced on {when}{detail}. Correct the address, "
                "then clear “contact invalid” on the prospect."
            )
    hosts = {p.pk: _host(p) for p in prospects}
    dnc = do_not_contact_hits((p.contact_email, hosts[p.pk]) for p in prospects)
    cooling = cooldown_hits(campaign, (p.domain for p in prospects), now=now)
    running = {
        s.domain: s
        for s in Sequence.objects.filter(
            state=Sequence.State.ACTIVE, domain__in={p.domain for p in prospects}
        ).select_related("campaign", "started_by")
    }
    for prospect in prospects:
        entry = dnc.get((prospect.contact_email, hosts[prospect.pk]))
        if entry:
            reasons[prospect.pk].append(_dnc_reason(entry))
        if prospect.domain in cooling:
            other, last = cooling[prospect.domain]
            reasons[prospect.pk].append(_cooldown_reason(prospect.domain, other, last, now))
        active = running.get(prospect.domain)
        if active is not None:
            if active.prospect_id == prospect.pk:
                reasons[prospect.pk].append(
                    "This prospect's sequence is still running: stop it before starting another."
                )
            else:
                who = active.started_by.get_username() if active.started_by else "someone"
                reasons[prospect.pk].append(
                    f"A sequence to {prospect.domain} is already running (campaign "
                    f"“{active.campaign.name}”, started by {who}); one at a time per domain."
                )
    return {pk: why for pk, why in reasons.items() if why}


# --- starting and stopping --------------------------------------------------------


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
    return f"<{uuid.uuid4().hex}@{_email_domain(mailbox.email)}>"


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
    target_url = top_target_url(campaign)
    reasons = safety_reasons(campaign, prospects, now=now)
    result = StartResult()
    planned: list[tuple[Prospect, list[RenderedEmail]]] = []
    domains: set[str] = set()
    for prospect in prospects:
        why = list(reasons.get(prospect.pk, []))
        if prospect.domain in domains:
            why.append(f"Another selected prospect on {prospect.domain} gets this sequence.")
        values = merge_values(prospect, campaign=campaign, mailbox=mailbox, target_url=target_url)
        try:
            emails = render_emails(template, follow_ups, values)
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


# --- claiming ---------------------------------------------------------------------


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
    blocker = send_blocker(email)
    if blocker is not None:
        reason, text = blocker
        _cancel_blocked(email, claim, reason=reason, text=text)
        return "blocked"
    mailbox = email.mailbox
    try:
        server = mailboxes.smtp_server(mailbox)
    except mailboxes.MailboxSecretMissing as exc:
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
                return resolve_transmitted(email, claim, error=str(exc))
            except (transport.PermanentFailure, transport.TemporaryFailure):
                # The server answered DATA with a refusal: it took nothing.
                ScheduledEmail.objects.filter(pk=email.pk, claim_token=claim.token).update(
                    transmit_started_at=None
                )
                raise
            # Recorded before QUIT: the window in which a crash leaves the outcome
            # unknown is as short as it can be.
            mark_sent(email.pk, token=claim.token, at=timezone.now(), server_reply=reply)
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


def send_blocker(email: ScheduledEmail) -> tuple[str, str] | None:
    """The rules again, just before sending: (stop reason, text) or None. Things
    change between scheduling and sending: an unsubscribe, a bounce, another
    campaign's email."""
    sequence, prospect = email.sequence, email.sequence.prospect
    if sequence.state != Sequence.State.ACTIVE:
        return ("", "The sequence was stopped.")
    if prospect.contact_invalid_at:
        return (StopReason.BOUNCED, "Not sent: mail to this contact bounced.")
    contact = (email.to_email, _host(prospect))
    entry = do_not_contact_hits([contact]).get(contact)
    if entry:
        return (StopReason.DO_NOT_CONTACT, f"Not sent: {_dnc_reason(entry)}")
    if email.step == 0:
        now = timezone.now()
        hit = cooldown_hits(sequence.campaign, [prospect.domain], now=now).get(prospect.domain)
        if hit:
            return (
                StopReason.COOLDOWN,
                "Not sent: " + _cooldown_reason(prospect.domain, hit[0], hit[1], now),
            )
    return None


def _cancel_blocked(email: ScheduledEmail, claim: Claim, *, reason: str, text: str) -> None:
    with transaction.atomic():
        cancelled = ScheduledEmail.objects.filter(
            pk=email.pk, claim_token=claim.token, state=Email.SENDING
        ).update(state=Email.CANCELLED, claim_token=None, last_error=text)
        if cancelled and reason and stop_sequence(email.sequence, reason=reason):
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
            mark_contact_invalid(email.to_email, reason=f"refused by the server: {exc}")
            stop_sequence(sequence, reason=StopReason.BOUNCED)
        else:
            stop_sequence(sequence, reason=StopReason.FAILED)
        log_activity(
            prospect,
            kind=OutreachActivity.Kind.NOTE,
            by=None,
            summary=f"“{email.subject}” could not be sent to {email.to_email}: {exc}",
        )


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


# --- after a crash ----------------------------------------------------------------


def in_sent_folder(mailbox: Mailbox, message_id: str) -> bool:
    with transport.imap(mailboxes.imap_server(mailbox)) as session:
        return any(
            session.has_message_id(folder, message_id)
            for folder in session.sent_folders(mailbox.sent_folder)
        )


def resolve_transmitted(email: ScheduledEmail, claim: Claim, *, error: str) -> str:
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
                mark_sent(
                    email.pk,
                    token=claim.token,
                    at=email.transmit_started_at or timezone.now(),
                    note="found in the Sent folder after an interrupted send",
                )
                return "sent"
            detail += f" It is not in the Sent folder “{mailbox.sent_folder}”."
        except (transport.ImapError, mailboxes.MailboxSecretMissing) as exc:
            detail += f" The Sent folder could not be checked: {exc}"
    else:
        detail += " The mailbox has no IMAP settings, so its Sent folder cannot be checked."
    ScheduledEmail.objects.filter(pk=email.pk, claim_token=claim.token, state=Email.SENDING).update(
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
            Claim(email.pk, email.claim_token),
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
        mark_sent(
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
