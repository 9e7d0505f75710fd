"""The safety rules of outreach email, checked when a sequence starts
(``safety_reasons``) and again before each email leaves (``send_blocker``), each
with a reason a member can act on:

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
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence as Seq
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.formats import date_format

from campaigns.models import Campaign
from links.verification.urls import InvalidURL, host_of
from outreach.email.models import (
    DoNotContact,
    ScheduledEmail,
    Sequence,
)
from outreach.models import OutreachActivity, Prospect

StopReason = Sequence.StopReason


CONTACT_KINDS = [OutreachActivity.Kind.EMAIL_SENT, OutreachActivity.Kind.FOLLOW_UP]


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
