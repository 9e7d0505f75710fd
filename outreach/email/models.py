"""Outreach email's data: templates, sending mailboxes, the do-not-contact list,
sequences, scheduled and inbound mail.

They belong to the ``outreach`` app (``outreach/models.py`` imports them, so
their label, tables and migrations are outreach's); the prospect and activity
they point at are named by string, so this module needs nothing of
``outreach.models`` at import time.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from campaigns import crypto
from campaigns.models import Campaign
from outreach.email.wire import secrets
from outreach.email.wire.transport import Server


class EmailTemplate(models.Model):
    """A pitch and its follow-ups, written with merge fields (``outreach.email.wire.merge``).

    Managers write them; members use them. A template that has been used is
    archived rather than deleted, so its numbers stay in the stats.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="email_templates")
    name = models.CharField(max_length=120)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    is_archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="emailtemplate_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateFollowUp(models.Model):
    """A follow-up of a template: sent ``delay_days`` after the pitch, in its thread."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="follow_ups")
    position = models.PositiveSmallIntegerField()
    delay_days = models.PositiveSmallIntegerField()
    body = models.TextField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "position"], name="templatefollowup_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(delay_days__gte=1, delay_days__lte=90),
                name="templatefollowup_delay_range",
            ),
        ]

    def __str__(self) -> str:
        return f"+{self.delay_days} days"


class MailboxSecretMissing(Exception):
    """The mailbox's password cannot be had: not stored, not in the environment,
    or stored under another key."""


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


class ImapMailbox(models.Model):
    """A mailbox Anchorage reads over IMAP, whatever for: the sending mailboxes
    below (replies, bounces, the Sent folder after a crash) and the
    journalist-query mailboxes (``outreach.journalist_queries.models.Mailbox``).
    Both are read through the one client, ``outreach.email.wire.imap``, with the
    connection ``imap_server()`` describes.

    Two tables rather than one: a sending mailbox also has SMTP, sending hours, a
    daily limit and campaigns, and is leased while it is read; a query mailbox
    has a folder and a login, and lives in its own app's migrations. One table
    would be mostly empty columns on either side, for no shared query.
    """

    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def imap_server(self) -> Server:
        """The IMAP connection to read this mailbox with (its password included)."""
        raise NotImplementedError


class Mailbox(ImapMailbox):
    """A sending address: SMTP to send, IMAP to read replies. Admins manage them."""

    class Security(models.TextChoices):
        SSL = "ssl", "SSL/TLS"
        STARTTLS = "starttls", "STARTTLS"
        NONE = "none", "None (local relay only)"

    name = models.CharField(max_length=120, unique=True)
    from_name = models.CharField(max_length=120, help_text="Shown to recipients, e.g. Mia Chen.")
    email = models.EmailField(unique=True)
    campaigns = models.ManyToManyField(
        Campaign,
        blank=True,
        related_name="mailboxes",
        help_text="The campaigns that may send from it; none ticked means every campaign.",
    )
    is_active = models.BooleanField(default=True)
    daily_limit = models.PositiveIntegerField(
        default=40, help_text="Emails a day at most, counted in the mailbox's time zone."
    )
    window_start = models.TimeField(default=time(9), help_text="Sends from this time…")
    window_end = models.TimeField(default=time(17), help_text="…until this time (local).")
    time_zone = models.CharField(max_length=64, default="UTC")

    smtp_host = models.CharField(max_length=253)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(max_length=254, blank=True)
    # Fernet token (campaigns.crypto), or empty when the password comes from the
    # environment variable named in smtp_password_env.
    smtp_password = models.TextField(blank=True)
    smtp_password_env = models.CharField(max_length=100, blank=True)

    imap_host = models.CharField(
        max_length=253, blank=True, help_text="Leave empty to not read replies."
    )
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    imap_username = models.CharField(max_length=254, blank=True)
    imap_password = models.TextField(blank=True)
    imap_password_env = models.CharField(max_length=100, blank=True)
    sent_folder = models.CharField(
        max_length=200,
        default="Sent",
        help_text="Where the provider files mail sent over SMTP; used after a crash to "
        "find out whether an email left.",
    )

    # Reply polling: the last UID read in INBOX under this UIDVALIDITY, and a lease
    # so two workers never read the same mailbox at once.
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(null=True, blank=True, editable=False)
    poll_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_poll_error = models.TextField(blank=True, editable=False)
    last_send_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.CheckConstraint(condition=Q(daily_limit__gte=1), name="mailbox_limit_positive"),
            models.CheckConstraint(
                condition=~Q(window_start=F("window_end")), name="mailbox_window_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_name} <{self.email}>"

    @property
    def reads_replies(self) -> bool:
        return bool(self.imap_host)

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()

    def smtp_server(self) -> Server:
        """MailboxSecretMissing when its password cannot be had."""
        return Server(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=_secret(self.smtp_password, self.smtp_password_env, "SMTP"),
            timeout=settings.OUTREACH_SMTP_TIMEOUT_SECONDS,
            local_hostname=self.domain,
            allow_private_networks=settings.MAIL_ALLOW_PRIVATE_NETWORKS,
        )

    def imap_server(self) -> Server:
        """MailboxSecretMissing when its password cannot be had."""
        # The same login as SMTP unless set: most providers use one account for both.
        if self.imap_password or self.imap_password_env:
            password = _secret(self.imap_password, self.imap_password_env, "IMAP")
        else:
            password = _secret(self.smtp_password, self.smtp_password_env, "SMTP")
        return Server(
            host=self.imap_host,
            port=self.imap_port,
            security=self.imap_security,
            username=self.imap_username or self.smtp_username,
            password=password,
            timeout=settings.OUTREACH_SMTP_TIMEOUT_SECONDS,
            local_hostname=self.domain,
            allow_private_networks=settings.MAIL_ALLOW_PRIVATE_NETWORKS,
        )


class DoNotContact(models.Model):
    """An address or a whole domain that no sequence may write to."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email address"
        DOMAIN = "domain", "Domain"

    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        UNSUBSCRIBE = "unsubscribe", "Asked to unsubscribe"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="Stored lowercase.")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    reason = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "do-not-contact entry"
        verbose_name_plural = "do-not-contact list"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="donotcontact_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["email", "domain"]), name="donotcontact_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.value


class Sequence(models.Model):
    """One prospect being written to: a pitch and its follow-ups from one mailbox."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped"

    class StopReason(models.TextChoices):
        REPLIED = "replied", "They replied"
        UNSUBSCRIBED = "unsubscribed", "They asked to unsubscribe"
        BOUNCED = "bounced", "The address bounced"
        DO_NOT_CONTACT = "do_not_contact", "On the do-not-contact list"
        COOLDOWN = "cooldown", "Another campaign wrote to the domain"
        MANUAL = "manual", "Stopped by hand"
        FAILED = "failed", "The mail server refused it"
        # Only migration 0006 sets it: when domains became sites, of two sequences
        # running to one site (blog.x.com and x.com) the later one was stopped.
        SAME_SITE = "same_site", "Another sequence to the same site was running"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sequences")
    prospect = models.ForeignKey(
        "outreach.Prospect", on_delete=models.CASCADE, related_name="sequences"
    )
    template = models.ForeignKey(EmailTemplate, on_delete=models.PROTECT, related_name="sequences")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="sequences")
    # The prospect's domain (its site, the registrable domain) when it started:
    # the database allows one active sequence per site across all campaigns (the
    # constraint below).
    domain = models.CharField(max_length=253)
    to_email = models.EmailField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="started_sequences",
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(state="active"),
                name="sequence_one_active_per_domain",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["active", "finished", "stopped"]),
                name="sequence_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "template"], name="sequence_campaign_template"),
            models.Index(fields=["campaign", "started_by"], name="sequence_campaign_starter"),
            models.Index(fields=["to_email", "started_at"], name="sequence_to_email"),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.to_email}"


class ScheduledEmail(models.Model):
    """One email of a sequence, and the idempotency key of its sending.

    ``queued`` → ``sending`` (claimed with a token by one conditional UPDATE)
    → ``sent``. The Message-ID is fixed when the row is created, and
    ``transmit_started_at`` is written just before SMTP DATA: a crash before it
    sent nothing (the row is queued again); a crash after it is resolved from the
    mailbox's Sent folder, or the row becomes ``uncertain`` for a person to
    decide. Nothing ever sends a row twice on its own.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        UNCERTAIN = "uncertain", "Unknown: check the mailbox"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="emails")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="emails")
    step = models.PositiveSmallIntegerField(help_text="0 is the pitch, then the follow-ups.")
    delay_days = models.PositiveSmallIntegerField(default=0)
    to_email = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    message_id = models.CharField(max_length=250, unique=True)
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    due_at = models.DateTimeField()
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    transmit_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    activity = models.OneToOneField(
        "outreach.OutreachActivity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email",
    )

    class Meta:
        ordering = ["sequence", "step"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "step"], name="scheduledemail_unique_step"),
            models.CheckConstraint(
                condition=Q(
                    state__in=["queued", "sending", "sent", "uncertain", "failed", "cancelled"]
                ),
                name="scheduledemail_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(claim_token__isnull=False),
                name="scheduledemail_sending_has_claim",
            ),
        ]
        indexes = [
            models.Index(fields=["mailbox", "state", "due_at"], name="scheduledemail_due"),
            models.Index(fields=["mailbox", "claimed_at"], name="scheduledemail_claimed"),
            models.Index(fields=["state", "claimed_at"], name="scheduledemail_state_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to_email} ({self.state})"

    @property
    def is_follow_up(self) -> bool:
        return self.step > 0


class InboundEmail(models.Model):
    """A message read from a mailbox's INBOX, kept so that reading it again does nothing."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe"
        BOUNCE = "bounce", "Bounce"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        NOTICE = "notice", "Delivery notice"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="inbound")
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=250, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    sequence = models.ForeignKey(
        Sequence, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound"
    )
    prospect = models.ForeignKey(
        "outreach.Prospect",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "uid"], name="inboundemail_unique_uid"
            ),
            models.UniqueConstraint(
                fields=["mailbox", "message_id"],
                condition=~Q(message_id=""),
                name="inboundemail_unique_message_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.from_address}"
