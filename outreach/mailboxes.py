"""Mailboxes: their secrets, their connections, their sending hours and daily limit."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns import crypto
from campaigns.models import Campaign
from outreach.mail import secrets, transport
from outreach.models import Mailbox, ScheduledEmail

# The states that used up a send of the day: sent, being sent, or perhaps sent.
COUNTED = [
    ScheduledEmail.State.SENDING,
    ScheduledEmail.State.SENT,
    ScheduledEmail.State.UNCERTAIN,
]


class MailboxSecretMissing(Exception):
    """The mailbox's password cannot be had: not stored, not in the environment,
    or stored under another key."""


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


def _secret(stored: str, env_name: str, what: str) -> str:
    if env_name:
        try:
            value = secrets.from_environment(env_name)
        except secrets.SecretNameRefused as exc:
            raise MailboxSecretMissing(f"The {what} password: {exc}") from exc
        if value is None:
            raise MailboxSecretMissing(f"The {what} password variable {env_name} is not set.")
        return value
    if not stored:
        return ""
    try:
        return crypto.decrypt(stored)
    except crypto.UndecryptableSecret as exc:
        raise MailboxSecretMissing(f"The {what} password: {exc}") from exc


def _domain(mailbox: Mailbox) -> str:
    return mailbox.email.rpartition("@")[2].lower()


def smtp_server(mailbox: Mailbox) -> transport.Server:
    return transport.Server(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        security=mailbox.smtp_security,
        username=mailbox.smtp_username,
        password=_secret(mailbox.smtp_password, mailbox.smtp_password_env, "SMTP"),
        timeout=settings.OUTREACH_SMTP_TIMEOUT_SECONDS,
        local_hostname=_domain(mailbox),
        allow_private_networks=settings.MAIL_ALLOW_PRIVATE_NETWORKS,
    )


def imap_server(mailbox: Mailbox) -> transport.Server:
    # The same login as SMTP unless set: most providers use one account for both.
    if mailbox.imap_password or mailbox.imap_password_env:
        password = _secret(mailbox.imap_password, mailbox.imap_password_env, "IMAP")
    else:
        password = _secret(mailbox.smtp_password, mailbox.smtp_password_env, "SMTP")
    return transport.Server(
        host=mailbox.imap_host,
        port=mailbox.imap_port,
        security=mailbox.imap_security,
        username=mailbox.imap_username or mailbox.smtp_username,
        password=password,
        timeout=settings.OUTREACH_SMTP_TIMEOUT_SECONDS,
        local_hostname=_domain(mailbox),
        allow_private_networks=settings.MAIL_ALLOW_PRIVATE_NETWORKS,
    )


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
