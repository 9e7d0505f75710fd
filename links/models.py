from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, TargetPage
from links.verification.urls import domain_of, normalize_url, url_key
from outreach.models import Prospect


class Verdict(models.TextChoices):
    LIVE = "live", "Live"
    NOFOLLOW = "nofollow", "Nofollow"
    MISSING = "missing", "Missing"
    ERROR = "error", "Error"


class BacklinkState(models.TextChoices):
    """The verdict we stand behind, after the loss rules: a single ``missing`` is
    only ``unconfirmed`` until a second check agrees."""

    PENDING = "pending", "Not checked yet"
    LIVE = "live", "Live"
    NOFOLLOW = "nofollow", "Nofollow"
    UNCONFIRMED = "unconfirmed", "Missing (confirming)"
    LOST = "lost", "Lost"
    ERROR = "error", "Error"
    UNREACHABLE = "unreachable", "Unreachable"


class Placement(models.TextChoices):
    """Where on its page the link sits (links.verification.placement)."""

    CONTENT = "content", "Content"
    NAVIGATION = "navigation", "Navigation"
    HEADER = "header", "Header"
    FOOTER = "footer", "Footer"
    SIDEBAR = "sidebar", "Sidebar"
    COMMENTS = "comments", "Comments"


class LinkKind(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"


class BacklinkQuerySet(models.QuerySet):
    def due(self, now=None) -> BacklinkQuerySet:
        return self.filter(next_check_at__lte=now or timezone.now())


class Backlink(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="backlinks")
    target_page = models.ForeignKey(
        TargetPage, on_delete=models.SET_NULL, null=True, blank=True, related_name="backlinks"
    )
    prospect = models.ForeignKey(
        Prospect, on_delete=models.SET_NULL, null=True, blank=True, related_name="backlinks"
    )
    source_url = models.URLField(max_length=2000)
    source_url_key = models.CharField(max_length=2000, editable=False)
    source_domain = models.CharField(max_length=253, editable=False)
    target_url = models.URLField(max_length=2000)
    target_url_key = models.CharField(max_length=2000, editable=False)
    expected_anchor_text = models.CharField(max_length=500, blank=True)
    expected_dofollow = models.BooleanField(default=True)
    won_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="won_backlinks",
    )
    won_on = models.DateField(default=timezone.localdate)
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    state = models.CharField(
        max_length=16, choices=BacklinkState.choices, default=BacklinkState.PENDING
    )
    last_verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    noindex = models.BooleanField(default=False)
    canonical_url = models.URLField(max_length=2000, blank=True)
    robots_txt_blocked = models.BooleanField(default=False)
    # The link as the last check that found it saw it (its primary anchor, see
    # links.outcome.primary_anchor); blank until then, and placement stays blank
    # when the page was too deeply nested to tell.
    placement = models.CharField(max_length=16, choices=Placement.choices, blank=True)
    link_kind = models.CharField(max_length=8, choices=LinkKind.choices, blank=True)
    # The rel tokens that make a link pass no value (nofollow, ugc, sponsored),
    # each kept, space-separated: the "link types" chart tells them apart.
    link_rel = models.CharField(max_length=32, blank=True)
    # Topical relevance (0-100) of the source page's main text to the target page
    # and the campaign's keywords, with the shared terms that explain it; null
    # until both pages could be read.
    relevance = models.PositiveSmallIntegerField(null=True, blank=True)
    relevance_terms = models.JSONField(default=list, blank=True)
    # The quality score (campaigns.quality) and the parts that explain it, kept
    # by links.quality whenever an input changes, so lists sort and filter on it
    # in the database; null until first computed.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_parts = models.JSONField(null=True, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    lost_at = models.DateTimeField(null=True, blank=True)
    # When ``state`` last changed: a link that changed recently is watched daily.
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # The page hash of the last check: unchanged pages don't store their snippet again.
    last_page_hash = models.CharField(max_length=64, blank=True)
    # Since when the page has failed without a break; "unreachable" is decided from it.
    failing_since = models.DateTimeField(null=True, blank=True)
    # Set by "re-check now"; the page polls until last_checked_at passes it.
    check_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BacklinkQuerySet.as_manager()

    class Meta:
        ordering = ["-won_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source_url_key", "target_url_key"],
                name="backlink_unique_source_target",
            ),
            models.CheckConstraint(
                condition=Q(state__in=BacklinkState.values), name="backlink_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(last_verdict__in=[*Verdict.values, ""]),
                name="backlink_verdict_valid",
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="backlink_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(state="lost") | Q(lost_at__isnull=False),
                name="backlink_lost_has_time",
            ),
            models.CheckConstraint(
                condition=Q(placement__in=[*Placement.values, ""]),
                name="backlink_placement_valid",
            ),
            models.CheckConstraint(
                condition=Q(link_kind__in=[*LinkKind.values, ""]),
                name="backlink_link_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["next_check_at"], name="backlink_next_check"),
            models.Index(fields=["campaign", "state"], name="backlink_campaign_state"),
            models.Index(fields=["campaign", "won_on"], name="backlink_campaign_won_on"),
            models.Index(fields=["campaign", "source_domain"], name="backlink_campaign_domain"),
            # The all-campaigns dashboard: links won in a date range, and each
            # domain's first link (read from the index alone, in domain order).
            models.Index(fields=["won_on"], name="backlink_won_on"),
            models.Index(fields=["source_domain", "won_on"], name="backlink_domain_won_on"),
            # One campaign's first link per domain, from the index alone.
            models.Index(
                fields=["campaign", "source_domain", "won_on"], name="backlink_campaign_domain_won"
            ),
            # The backlinks table sorted or filtered by quality.
            models.Index(fields=["campaign", "quality"], name="backlink_campaign_quality"),
        ]

    def __str__(self) -> str:
        return f"{self.source_url} → {self.target_url}"

    def save(self, *args, **kwargs):
        self.set_urls(self.source_url, self.target_url)
        super().save(*args, **kwargs)

    # How long "re-check now" may wait for a worker before the page gives up
    # polling and says the check is still queued.
    RECHECK_TIMEOUT = timedelta(seconds=60)

    def recheck_status(self, now: datetime | None = None) -> str:
        """Where a "re-check now" stands: "" (none outstanding, or answered),
        "waiting" (queued or running), "timed_out" (no answer within the timeout)."""
        requested = self.check_requested_at
        if requested is None or (self.last_checked_at and self.last_checked_at >= requested):
            return ""
        if (now or timezone.now()) - requested > self.RECHECK_TIMEOUT:
            return "timed_out"
        return "waiting"

    def set_urls(self, source_url: str, target_url: str) -> None:
        self.source_url = normalize_url(source_url)
        self.source_url_key = url_key(self.source_url)
        self.source_domain = domain_of(self.source_url)
        self.target_url = normalize_url(target_url)
        self.target_url_key = url_key(self.target_url)


class LinkCheck(models.Model):
    """Append-only history: one row per verification, with its evidence."""

    backlink = models.ForeignKey(Backlink, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    anchors = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=dict, blank=True)
    differences = models.JSONField(default=list, blank=True)
    snippet = models.TextField(blank=True)
    page_hash = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    bytes_read = models.PositiveIntegerField(default=0)
    # Derived, kept by a database trigger (migration 0004) whatever writes the
    # row: True when this check moves its backlink between "live" and "not
    # live", compared with the backlink's previous check that had a verdict
    # (error checks prove nothing and never count; a first check counts when it
    # is live). The dashboard's live-over-time chart sums these few rows instead
    # of replaying a million checks.
    live_changed = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=Verdict.values), name="linkcheck_verdict_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["backlink", "checked_at"], name="linkcheck_backlink_time"),
            models.Index(fields=["checked_at"], name="linkcheck_time"),
            # Only the few transition rows, with the verdict in the key so the
            # live-over-time chart reads the index alone.
            models.Index(
                fields=["backlink", "checked_at", "verdict"],
                name="linkcheck_live_changes",
                condition=Q(live_changed=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} at {self.checked_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        LOST = "lost", "Link lost"
        NOFOLLOW = "nofollow", "Turned nofollow"
        RECOVERED = "recovered", "Recovered"
        UNREACHABLE = "unreachable", "Page unreachable"
        ANCHOR_CHANGED = "anchor_changed", "Anchor text changed"
        TARGET_CHANGED = "target_changed", "Target changed"
        MOVED_OUT_OF_CONTENT = "moved_out_of_content", "Moved out of the content"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="alerts")
    backlink = models.ForeignKey(
        Backlink, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "lost",
                        "nofollow",
                        "recovered",
                        "unreachable",
                        "anchor_changed",
                        "target_changed",
                        "moved_out_of_content",
                    ]
                ),
                name="alert_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "read_at"], name="alert_campaign_unread"),
            models.Index(fields=["mailed_at"], name="alert_unmailed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"
