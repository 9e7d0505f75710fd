from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Campaign
from outreach.models import Prospect


class ScanState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


FINISHED_STATES = (ScanState.DONE, ScanState.CANCELLED, ScanState.FAILED)
STALLED_AFTER = timedelta(minutes=2)
WAITING_LONG = timedelta(minutes=1)


class BrokenLinkScanQuerySet(models.QuerySet["BrokenLinkScan"]):
    def active(self, now: datetime | None = None) -> BrokenLinkScanQuerySet:
        """Queued, or running with a recent heartbeat: what the scan budgets
        count. A scan whose worker died stops counting once it is stalled."""
        fresh = (now or timezone.now()) - STALLED_AFTER
        return self.annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at")).filter(
            Q(state=ScanState.QUEUED) | Q(state=ScanState.RUNNING, last_sign__gte=fresh)
        )


class BrokenLinkScan(models.Model):
    """One run of the broken-link finder over a few resource pages; the row the
    progress display polls."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="broken_link_scans"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=ScanState.choices, default=ScanState.QUEUED)
    pages_total = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    links_total = models.PositiveIntegerField(default=0)
    links_checked = models.PositiveIntegerField(default=0)
    dead_count = models.PositiveIntegerField(default=0)
    maybe_count = models.PositiveIntegerField(default=0)
    unknown_count = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with every progress update: a running scan whose heartbeat stops
    # lost its worker, and the page says so instead of spinning for ever.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Set when a budget cut the scan short (links per page, links per scan):
    # the sentence the results show, so nobody takes a partial scan for a full one.
    cap_notice = models.TextField(blank=True)

    objects = BrokenLinkScanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ScanState.values), name="brokenlinkscan_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "-created_at"], name="scan_campaign_created")]

    def __str__(self) -> str:
        return f"Broken-link scan {self.pk} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def stalled(self) -> bool:
        """Running, but no progress for longer than any one check can take."""
        if self.state != ScanState.RUNNING:
            return False
        last = self.heartbeat_at or self.started_at or self.created_at
        return timezone.now() - last > STALLED_AFTER

    @property
    def waiting_long(self) -> bool:
        return self.state == ScanState.QUEUED and timezone.now() - self.created_at > WAITING_LONG

    @property
    def percent(self) -> int:
        # Pages weigh little next to their links: a page is one fetch, its
        # links are dozens.
        if not self.pages_total:
            return 0
        pages = self.pages_done / self.pages_total
        links = self.links_checked / self.links_total if self.links_total else 0
        if self.pages_done < self.pages_total:
            return round(10 * pages)
        return 10 + round(90 * links)


class ScanPage(models.Model):
    """A resource page of a scan: its URL, and what fetching it gave."""

    scan = models.ForeignKey(BrokenLinkScan, on_delete=models.CASCADE, related_name="pages")
    url = models.URLField(max_length=2000)
    position = models.PositiveSmallIntegerField(default=0)
    prospect = models.ForeignKey(
        Prospect, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    final_url = models.URLField(max_length=2000, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    links_found = models.PositiveIntegerField(default=0)
    # The page had more outbound links than BROKEN_LINKS_MAX_LINKS_PER_PAGE.
    links_capped = models.BooleanField(default=False)
    done = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.url


class DeadLinkVerdict(models.TextChoices):
    DEAD = "dead", "Dead"
    MAYBE_DEAD = "maybe_dead", "Maybe dead"


class DeadLink(models.Model):
    """A link on a resource page that leads nowhere: a broken_link prospect in waiting."""

    page = models.ForeignKey(ScanPage, on_delete=models.CASCADE, related_name="dead_links")
    scan = models.ForeignKey(BrokenLinkScan, on_delete=models.CASCADE, related_name="dead_links")
    url = models.URLField(max_length=2000)
    anchor_text = models.CharField(max_length=500, blank=True)
    context = models.TextField(blank=True)
    verdict = models.CharField(max_length=16, choices=DeadLinkVerdict.choices)
    reason = models.CharField(max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)
    prospect = models.ForeignKey(
        Prospect, on_delete=models.SET_NULL, null=True, blank=True, related_name="found_dead_links"
    )

    class Meta:
        ordering = ["verdict", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=DeadLinkVerdict.values), name="deadlink_verdict_valid"
            ),
            models.UniqueConstraint(fields=["page", "url"], name="deadlink_unique_per_page"),
        ]

    def __str__(self) -> str:
        return self.url


class DeadLinkCheck(models.Model):
    """A one-click re-check of a broken_link prospect's dead URL, before the email.
    Created when the member asks, filled in by a Celery task; the page polls it
    until ``checked_at`` is set."""

    # A check with no answer after this long is shown as such (the worker may be
    # down or busy); the page stops polling.
    TIMEOUT = timedelta(seconds=60)

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="dead_checks")
    requested_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    url = models.URLField(max_length=2000)
    outcome = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        get_latest_by = "requested_at"
        indexes = [
            models.Index(fields=["prospect", "-requested_at"], name="deadcheck_prospect_requested")
        ]

    def __str__(self) -> str:
        return f"{self.url}: {self.outcome or 'waiting'}"

    @property
    def still_dead(self) -> bool:
        return self.outcome == "dead"

    def progress(self, now: datetime | None = None) -> str:
        """ "" (answered), "waiting" (queued or running), "timed_out"."""
        if self.checked_at is not None:
            return ""
        if (now or timezone.now()) - self.requested_at > self.TIMEOUT:
            return "timed_out"
        return "waiting"


# --- Competitor link gap -------------------------------------------------------------------


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Reading"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BacklinkExport(models.Model):
    """One uploaded backlink export (Ahrefs, Semrush, Moz...) of a competitor, or of
    our own site, reduced to its referring domains by a Celery job."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="link_exports")
    competitor = models.CharField(
        max_length=253, blank=True, help_text="The site the export is about."
    )
    state = models.CharField(max_length=16, choices=ExportState.choices, default=ExportState.QUEUED)
    error = models.TextField(blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    is_ours = models.BooleanField(default=False)
    original_name = models.CharField(max_length=255)
    tool = models.CharField(max_length=32, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    domain_count = models.PositiveIntegerField(default=0)
    # Rows whose follow status the file gave (Nofollow / UGC / Sponsored
    # columns, or a rel or link-type column); both 0 when it gave none, or the
    # export was read before these were counted.
    links_follow = models.PositiveIntegerField(default=0)
    links_nofollow = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ExportState.values), name="backlinkexport_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competitor or '?'} ({self.original_name})"

    @property
    def finished(self) -> bool:
        return self.state in (ExportState.DONE, ExportState.FAILED)


class ExportUpload(models.Model):
    """The uploaded file until its job has read it. In the database rather than on
    disk: the worker that reads it may run on another machine than the web
    process that took it, and exports are capped at a few megabytes."""

    export = models.OneToOneField(BacklinkExport, on_delete=models.CASCADE, related_name="upload")
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"Upload of {self.export}"


class FacetKind(models.TextChoices):
    ANCHOR = "anchor", "Anchor class"
    MONTH = "month", "Month first seen"
    PAGE = "page", "Linked page"


class ExportFacet(models.Model):
    """One export's links counted one way, for the comparison with our profile:
    per anchor class (links.prospecting.profile), per month first seen
    ("2024-05"), or per page of the competitor's that the links point at (its
    most linked pages only, with their referring domains). Absent for what the
    file had no column for."""

    export = models.ForeignKey(BacklinkExport, on_delete=models.CASCADE, related_name="facets")
    kind = models.CharField(max_length=8, choices=FacetKind.choices)
    key = models.CharField(max_length=2000)
    links = models.PositiveIntegerField(default=0)
    domains = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=FacetKind.values), name="exportfacet_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["export", "kind", "-domains"], name="exportfacet_export_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.links}"


class ReferringDomain(models.Model):
    export = models.ForeignKey(
        BacklinkExport, on_delete=models.CASCADE, related_name="referring_domains"
    )
    # Denormalized from the export so the gap query groups one table.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    competitor = models.CharField(max_length=253)
    is_ours = models.BooleanField(default=False)
    domain = models.CharField(max_length=253)
    domain_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    links = models.PositiveIntegerField(default=1)
    sample_url = models.URLField(max_length=2000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["export", "domain"], name="refdomain_unique_per_export"
            ),
            models.CheckConstraint(
                condition=Q(domain_rating__isnull=True) | Q(domain_rating__lte=100),
                name="refdomain_rating_range",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "is_ours", "domain"], name="refdomain_campaign_domain")
        ]

    def __str__(self) -> str:
        return self.domain
