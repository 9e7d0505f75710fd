from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from campaigns.models import Campaign, TargetPage
from links.verification.urls import domain_of, normalize_url, url_key


class Kind(models.TextChoices):
    BLOGGER = "blogger", "Blogger"
    GUEST_POST = "guest_post", "Guest post"
    HARO = "haro", "HARO query"
    BROKEN_LINK = "broken_link", "Broken link"


class Status(models.TextChoices):
    NEW = "new", "New"
    QUALIFIED = "qualified", "Qualified"
    CONTACTED = "contacted", "Contacted"
    FOLLOWED_UP = "followed_up", "Followed up"
    REPLIED = "replied", "Replied"
    NEGOTIATING = "negotiating", "Negotiating"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    UNRESPONSIVE = "unresponsive", "Unresponsive"


# The pipeline order, used by the funnel: a prospect that reached "replied" also
# passed through the earlier steps.
PIPELINE = [
    Status.NEW,
    Status.QUALIFIED,
    Status.CONTACTED,
    Status.FOLLOWED_UP,
    Status.REPLIED,
    Status.NEGOTIATING,
    Status.WON,
]
CLOSED_STATUSES = {Status.WON, Status.LOST, Status.UNRESPONSIVE}


class Tag(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="tag_unique_per_campaign"),
        ]

    def __str__(self) -> str:
        return self.name


class ProspectQuerySet(models.QuerySet):
    def follow_up_due(self, on=None) -> ProspectQuerySet:
        day = on or timezone.localdate()
        return self.filter(next_follow_up__lte=day).exclude(status__in=CLOSED_STATUSES)

    def open(self) -> ProspectQuerySet:
        return self.exclude(status__in=CLOSED_STATUSES)


class Prospect(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prospects")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=2000)
    url_key = models.CharField(max_length=2000, editable=False)
    domain = models.CharField(max_length=253, editable=False)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    domain_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    niche = models.CharField(max_length=120, blank=True)
    # Topical relevance (0-100) of the prospect's page to the campaign's target
    # pages and keywords, scored in the background; null until scored.
    relevance = models.PositiveSmallIntegerField(null=True, blank=True)
    relevance_terms = models.JSONField(default=list, blank=True)
    # The quality score (campaigns.quality) and its parts; kept by the links
    # app's quality refresh (it also needs the campaign's backlinks), which picks
    # up every prospect marked stale. save() marks it, and so must any bulk
    # write of domain_rating or relevance.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_parts = models.JSONField(null=True, blank=True)
    quality_stale = models.BooleanField(default=True, db_default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="prospects")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_prospects",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    next_follow_up = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # HARO
    outlet = models.CharField(max_length=200, blank=True)
    query_text = models.TextField(blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    # Broken link
    dead_url = models.URLField(max_length=2000, blank=True)
    offered_target = models.ForeignKey(
        TargetPage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offered_in",
    )
    # Guest post
    fee = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Mail to contact_email bounced: no sequence starts until someone fixes the
    # address and clears this.
    contact_invalid_at = models.DateTimeField(null=True, blank=True)
    contact_invalid_reason = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # What the search box looks in, kept by the database itself. One column means
    # one trigram index (migration 0002) and one index scan per search; an OR over
    # four indexed columns costs the planner more than reading the whole table.
    search_text = models.GeneratedField(
        expression=Concat(
            "url",
            Value(" "),
            "contact_name",
            Value(" "),
            "contact_email",
            Value(" "),
            "notes",
            output_field=models.TextField(),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = ProspectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url_key"], name="prospect_unique_url"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="prospect_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="prospect_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(domain_rating__isnull=True)
                | Q(domain_rating__gte=0, domain_rating__lte=100),
                name="prospect_domain_rating_range",
            ),
            # Kind-specific fields belong to their kind only, so a report by kind
            # never mixes in stray values.
            models.CheckConstraint(
                condition=Q(kind=Kind.GUEST_POST) | Q(fee__isnull=True),
                name="prospect_fee_only_guest_post",
            ),
            models.CheckConstraint(
                condition=Q(fee__isnull=True) | Q(fee__gte=0), name="prospect_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind=Kind.HARO) | (Q(deadline__isnull=True) & Q(query_text="")),
                name="prospect_query_only_haro",
            ),
            models.CheckConstraint(
                condition=Q(kind=Kind.BROKEN_LINK)
                | (Q(dead_url="") & Q(offered_target__isnull=True)),
                name="prospect_dead_url_only_broken_link",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="prospect_campaign_status"),
            models.Index(fields=["campaign", "kind"], name="prospect_campaign_kind"),
            models.Index(fields=["assignee", "next_follow_up"], name="prospect_assignee_followup"),
            models.Index(fields=["campaign", "domain"], name="prospect_campaign_domain"),
            models.Index(fields=["deadline"], name="prospect_deadline"),
            # The outreach cooldown looks for other campaigns' contacts of a domain.
            models.Index(fields=["domain"], name="prospect_domain"),
            # The all-campaigns dashboard's funnel and kinds: prospects added in a range.
            models.Index(fields=["created_at"], name="prospect_created_at"),
            # The prospects table's default order: a page is read from the index
            # instead of sorting the whole campaign.
            models.Index(
                F("campaign"),
                F("created_at").desc(),
                F("id").desc(),
                name="prospect_campaign_newest",
            ),
            models.Index(fields=["campaign", "quality"], name="prospect_campaign_quality"),
            # The few rows the quality refresh has to redo.
            models.Index(
                fields=["campaign", "domain"],
                name="prospect_quality_stale",
                condition=Q(quality_stale=True),
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs):
        self.set_url(self.url)
        # Any field may have changed the score's inputs (rating, relevance, URL).
        self.quality_stale = True
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "quality_stale" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "quality_stale"]
        super().save(*args, **kwargs)

    def set_url(self, url: str) -> None:
        self.url = normalize_url(url)
        self.url_key = url_key(self.url)
        self.domain = domain_of(self.url)


class StatusChange(models.Model):
    """Append-only history of a prospect's pipeline status."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=models.F("to_status")), name="statuschange_is_a_change"
            ),
        ]
        indexes = [
            models.Index(fields=["prospect", "changed_at"], name="statuschange_prospect"),
            models.Index(fields=["to_status", "changed_at"], name="statuschange_to_status"),
            # The dashboard's funnel: how far each prospect got, from the index alone.
            models.Index(
                fields=["prospect", "changed_at", "to_status"], name="statuschange_prospect_reached"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class OutreachActivity(models.Model):
    class Kind(models.TextChoices):
        EMAIL_SENT = "email_sent", "Email sent"
        FOLLOW_UP = "follow_up", "Follow-up"
        REPLY = "reply", "Reply"
        CALL = "call", "Call"
        PITCH_SUBMITTED = "pitch_submitted", "Pitch submitted"
        NOTE = "note", "Note"

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outreach_activities",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "outreach activities"
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["email_sent", "follow_up", "reply", "call", "pitch_submitted", "note"]
                ),
                name="activity_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["prospect", "occurred_at"], name="activity_prospect"),
            models.Index(fields=["user", "occurred_at"], name="activity_user"),
            # The all-campaigns dashboard: activity in a date range.
            models.Index(fields=["occurred_at"], name="activity_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.prospect}"


def _import_upload_path(job: ImportJob, filename: str) -> str:
    # The original name is kept on the row; on disk a dated folder and the
    # storage's own collision handling are enough.
    return f"imports/{timezone.now():%Y/%m}/{filename}"


class ImportJob(models.Model):
    """One spreadsheet imported into a campaign: who, what file, when, how it went.

    The row is the import's history and its progress: the browser polls it while
    a worker runs the import. ``target`` names the importer (prospects or
    backlinks); the data rows it writes are committed together with this row's
    final counts, in one transaction.
    """

    class Target(models.TextChoices):
        PROSPECTS = "prospects", "Prospects"
        BACKLINKS = "backlinks", "Backlinks"

    class State(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded, not imported"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed, nothing imported"

    class Source(models.TextChoices):
        WEB = "web", "Browser"
        CLI = "cli", "Command line"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="import_jobs")
    target = models.CharField(max_length=16, choices=Target.choices)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(default=timezone.now)
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=_import_upload_path, max_length=500, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    file_format = models.CharField(max_length=8, blank=True)
    # Column index (as a string) to field name; columns not listed are ignored.
    mapping = models.JSONField(default=dict, blank=True)
    # Importer options: the kind for rows without one, a default target URL.
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UPLOADED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # The preview's or the run's details: counts by cause, fields updated,
    # sample rows, first rejections.
    summary = models.JSONField(default=dict, blank=True)
    rejected_file = models.FileField(upload_to=_import_upload_path, max_length=500, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target__in=["prospects", "backlinks"]), name="importjob_target_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["uploaded", "queued", "running", "done", "failed"]),
                name="importjob_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["web", "cli"]), name="importjob_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="importjob_campaign_time"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} → {self.campaign} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)


# --- Outreach email: templates, mailboxes, sequences, scheduled and inbound mail ------


class EmailTemplate(models.Model):
    """A pitch and its follow-ups, written with merge fields (``outreach.mail.merge``).

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


class Mailbox(models.Model):
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
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
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
    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="sequences")
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
        OutreachActivity, on_delete=models.SET_NULL, null=True, blank=True, related_name="email"
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
        Prospect, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound"
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
