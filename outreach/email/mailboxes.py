"""Sending mailboxes: which campaigns may use them, their passwords, their sending
hours and daily limit. (Their connections are ``Mailbox.smtp_server()`` and
``imap_server()``.)"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from campaigns import crypto
from campaigns.models import Campaign
from outreach.email.models import Mailbox, ScheduledEmail

# The states that used up a send of the day: sent, being sent, or perhaps sent.
COUNTED = [
    ScheduledEmail.State.SENDING,
    ScheduledEmail.State.SENT,
    ScheduledEmail.State.UNCERTAIN,
]


def for_campaign(campaign: Campaign) -> QuerySet[Mailbox]:
    """The active mailboxes this campaign may send from: those opened to it, and
    those opened to every campaign (none ticked)."""
    return (
        Mailbox.objects.filter(is_active=True)
        .filter(Q(campaigns=campaign) | Q(campaigns__isnull=True))
        .distinct()
        .order_by("name")
    )


def set_passwords(mailbox: Mailbox, *, smtp: str | None = None, imap: str | None = None) -> None:
    """Store passwords encrypted (call before ``save``). None keeps the current one."""
    if smtp is not None:
        mailbox.smtp_password = crypto.encrypt(smtp) if smtp else ""
    if imap is not None:
        mailbox.imap_password = crypto.encrypt(imap) if imap else ""


def save_mailbox(
    mailbox: Mailbox, *, smtp_password: str, imap_password: str, clear_passwords: bool
) -> Mailbox:
    """Save a mailbox from its form: a new password replaces the stored one (empty
    keeps it), ``clear_passwords`` forgets both, and a password read from the
    environment leaves none stored."""
    if clear_passwords:
        set_passwords(mailbox, smtp="", imap="")
    set_passwords(mailbox, smtp=smtp_password or None, imap=imap_password or None)
    if mailbox.smtp_password_env:
        mailbox.smtp_password = ""
    if mailbox.imap_password_env:
        mailbox.imap_password = ""
    mailbox.save()
    return mailbox


def for_admin_list(*, now: datetime | None = None) -> QuerySet[Mailbox]:
    """Every mailbox with its queued and uncertain emails and those sent in the
    last 24 hours (the admins' mailbox list), in one query."""
    now = now or timezone.now()
    emails = ScheduledEmail.State
    return Mailbox.objects.annotate(
        # The last 24 hours here; the limit itself is counted in each mailbox's
        # own day (used_today).
        queued=Count("emails", filter=Q(emails__state=emails.QUEUED)),
        uncertain=Count("emails", filter=Q(emails__state=emails.UNCERTAIN)),
        sent_24h=Count(
            "emails",
            filter=Q(emails__state=emails.SENT, emails__sent_at__gte=now - timedelta(hours=24)),
        ),
    ).order_by("name")


def zone(mailbox: Mailbox) -> ZoneInfo:
    try:
        return ZoneInfo(mailbox.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        # The form refuses unknown zones; a row edited elsewhere falls back to UTC.
        return ZoneInfo("UTC")


def in_window(mailbox: Mailbox, now: datetime) -> bool:
    """Whether ``now`` is within the mailbox's sending hours, in its own time zone.
    A window may run past midnight (22:00 to 06:00)."""
    local = now.astimezone(zone(mailbox)).time()
    start, end = mailbox.window_start, mailbox.window_end
    if start < end:
        return start <= local < end
    return local >= start or local < end


def day_start(mailbox: Mailbox, now: datetime) -> datetime:
    """Midnight of the mailbox's current local day, as an aware datetime."""
    local = now.astimezone(zone(mailbox))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


def next_window_start(mailbox: Mailbox, now: datetime) -> datetime:
    """When sending may next begin (``now`` if within the hours)."""
    if in_window(mailbox, now):
        return now
    tz = zone(mailbox)
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), mailbox.window_start, tzinfo=tz)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def used_today(mailbox: Mailbox, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return ScheduledEmail.objects.filter(
        mailbox=mailbox, state__in=COUNTED, claimed_at__gte=day_start(mailbox, now)
    ).count()
