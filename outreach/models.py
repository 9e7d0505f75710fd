from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
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

# Pipeline order for sorting by status (alphabetical order would put "contacted"
# before "new"), then the two dead ends.
STATUS_RANK = {
    status: rank for rank, status in enumerate([*PIPELINE, Status.LOST, Status.UNRESPONSIVE])
}


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
    # When the page was last read for its relevance (scored or not: a page that
    # could not be read is not retried in a loop); null until then, which is
    # what the background scoring looks for.
    relevance_scored_at = models.DateTimeField(null=True, blank=True)
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
    # The furthest PIPELINE step (its index) the status history has reached,
    # for the dashboard's funnel; NULL before any pipeline status. Kept by
    # database triggers on StatusChange (outreach/0014), never lowered, so a
    # save() from a copy loaded earlier cannot undo it.
    furthest_step = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
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
    # The status's STATUS_RANK, kept by the database: the table and the API sort
    # by status through a plain (status_rank, id) index instead of sorting every
    # row by a CASE expression.
    status_rank = models.GeneratedField(
        expression=Case(
            *[When(status=status, then=Value(rank)) for status, rank in STATUS_RANK.items()],
            default=Value(len(STATUS_RANK)),
            output_field=models.SmallIntegerField(),
        ),
        output_field=models.SmallIntegerField(),
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
            # The cooldown's domain look-up is this index's prefix.
            models.Index(fields=["domain", "id"], name="prospect_domain_id"),
            # The all-campaigns dashboard's funnel and kinds (prospects added in a
            # range) use its prefix.
            models.Index(fields=["created_at", "id"], name="prospect_created_id"),
            # Every other sort of the table (outreach.queries.SORTS): an API page
            # over all visible campaigns reads 101 index entries after its cursor
            # (api.pagination) instead of sorting every prospect.
            models.Index(fields=["domain_rating", "id"], name="prospect_dr_id"),
            models.Index(fields=["relevance", "id"], name="prospect_relevance_id"),
            models.Index(fields=["next_follow_up", "id"], name="prospect_follow_up_id"),
            models.Index(fields=["status_rank", "id"], name="prospect_status_rank_id"),
            models.Index(fields=["updated_at", "id"], name="prospect_updated_id"),
            models.Index(fields=["quality", "id"], name="prospect_quality_id"),
            # The background relevance scoring finds the prospects never read.
            models.Index(
                fields=["id"],
                name="prospect_relevance_unscored",
                condition=Q(relevance_scored_at__isnull=True),
            ),
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


class ProspectTally(models.Model):
    """Signed counts of a campaign's prospects, written by database triggers
    (config.tallies.PROSPECTS): a campaign's counts are the sums of its rows."""

    # No foreign key constraint: a campaign's prospects are deleted before it,
    # and each of those deletions writes a row here; compact() drops rows of
    # campaigns that are gone.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    prospects = models.IntegerField(default=0)
    open_prospects = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}: {self.prospects:+} / {self.open_prospects:+}"


class ProspectStatusTally(models.Model):
    """Signed counts of a campaign's prospects per status (database triggers,
    config.tallies.PROSPECT_STATUSES): the campaign page's pipeline."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    prospects = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "status"], name="prospectstatus_campaign")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.status}: {self.prospects:+}"


class ProspectDay(models.Model):
    """Signed counts of a campaign's prospects added on a (site-local) day, by
    kind (database triggers, config.tallies.PROSPECT_DAYS)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    prospects = models.IntegerField(default=0)
    won = models.IntegerField(default=0)
    # The prospects whose furthest_step reached each PIPELINE step (the funnel).
    reached_new = models.IntegerField(default=0)
    reached_qualified = models.IntegerField(default=0)
    reached_contacted = models.IntegerField(default=0)
    reached_followed_up = models.IntegerField(default=0)
    reached_replied = models.IntegerField(default=0)
    reached_negotiating = models.IntegerField(default=0)
    reached_won = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "day"], name="prospectday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.day}, {self.kind}: {self.prospects:+}"


class ActivityCounts(models.Model):
    """Signed counts of a campaign's outreach activities per team member,
    written by database triggers (config.tallies); the count of a group is the
    sum of its rows."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # No constraint: a deleted user's activities move to NULL by their own
    # UPDATE, which the trigger follows.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    activities = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ActivityDay(ActivityCounts):
    """Per (site-local) day: config.tallies.ACTIVITY_DAYS."""

    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "day"], name="activityday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.day}: {self.activities:+}"


class ActivityWeek(ActivityCounts):
    """Per (site-local, Monday-started) week: config.tallies.ACTIVITY_WEEKS. A
    year of the whole agency's activity is a seventh of ActivityDay's rows."""

    week = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "week"], name="activityweek_campaign_week")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, week of {self.week}: {self.activities:+}"


# The outreach email models live in outreach/email/ with the rest of outreach
# email; importing them here registers them under this app (label "outreach").
from outreach.email.models import (  # noqa: E402, F401
    DoNotContact,
    EmailTemplate,
    ImapMailbox,
    InboundEmail,
    Mailbox,
    ScheduledEmail,
    Sequence,
    TemplateFollowUp,
)
