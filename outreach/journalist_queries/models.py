from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.crypto import decrypt, encrypt
from campaigns.models import Campaign
from outreach.email.models import ImapMailbox
from outreach.email.wire import secrets
from outreach.email.wire.transport import Server
from outreach.models import Prospect

IMAP_TIMEOUT = 30


class Mailbox(ImapMailbox):
    """An IMAP mailbox that receives journalist-query digests, set up by an admin.

    The password is stored encrypted (Fernet; see campaigns/crypto.py), or
    not stored at all: ``password_env`` names an environment variable to read it
    from at poll time.
    """

    class Security(models.TextChoices):
        SSL = "ssl", "TLS from the start (IMAPS, usually port 993)"
        STARTTLS = "starttls", "STARTTLS (usually port 143)"
        NONE = "none", "None (only for a server on this machine)"

    name = models.CharField(max_length=100)
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=16, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=254)
    password_encrypted = models.TextField(blank=True, editable=False)
    password_env = models.CharField(
        max_length=100,
        blank=True,
        help_text="Read the password from this environment variable instead of storing it "
        "(its name must start with ANCHORAGE_SECRET_).",
    )
    folder = models.CharField(max_length=200, default="INBOX")
    enabled = models.BooleanField(default=True)
    # IMAP UIDs are only comparable within one UIDVALIDITY of the folder.
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.CheckConstraint(
                condition=Q(port__gte=1, port__lte=65535), name="mailbox_port_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_password(self, password: str) -> None:
        self.password_encrypted = encrypt(password) if password else ""

    def get_password(self) -> str:
        """The password; SecretNameRefused if ``password_env`` names a variable
        outside ANCHORAGE_SECRET_… (checked here too: rows may predate the rule)."""
        if self.password_env:
            return secrets.from_environment(self.password_env) or ""
        return decrypt(self.password_encrypted) if self.password_encrypted else ""

    def imap_server(self) -> Server:
        """Raises what ``get_password`` raises."""
        return Server(
            host=self.host,
            port=self.port,
            security=self.security,
            username=self.username,
            password=self.get_password(),
            timeout=IMAP_TIMEOUT,
            allow_private_networks=settings.MAIL_ALLOW_PRIVATE_NETWORKS,
        )


class Digest(models.Model):
    """One email (or pasted text) as received: kept so a query can be traced back."""

    class Source(models.TextChoices):
        IMAP = "imap", "Mailbox"
        PASTE = "paste", "Pasted"

    source = models.CharField(max_length=8, choices=Source.choices)
    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=998, blank=True)
    service = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    query_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            # The same email read twice (a re-poll, a copy in two folders) is one digest.
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~Q(message_id=""),
                name="digest_unique_message_id",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"Digest {self.pk}"


class JournalistQuery(models.Model):
    """One request from a journalist, split out of a digest."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="queries")
    service = models.CharField(max_length=32, blank=True)
    title = models.CharField(max_length=500, blank=True)
    outlet = models.CharField(max_length=200, blank=True)
    outlet_url = models.URLField(max_length=2000, blank=True)
    link = models.URLField(max_length=2000, blank=True, help_text="Where to answer the query.")
    journalist = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    category = models.CharField(max_length=200, blank=True)
    query_text = models.TextField()
    requirements = models.TextField(blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    # True when the email could not be split: the whole text is this one query.
    unparsed = models.BooleanField(default=False)
    # Same service, title and text: the same query, however often it arrives.
    fingerprint = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "-received_at"]
        verbose_name_plural = "journalist queries"
        indexes = [models.Index(fields=["deadline"], name="query_deadline")]

    def __str__(self) -> str:
        return self.title or self.query_text[:80]


class QueryProspect(models.Model):
    """Which campaign made which query a prospect: the inbox shows it as taken."""

    query = models.ForeignKey(
        JournalistQuery, on_delete=models.CASCADE, related_name="prospect_links"
    )
    prospect = models.OneToOneField(Prospect, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["query", "campaign"], name="queryprospect_once_per_campaign"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query} → {self.prospect}"
