from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, TargetPage
from links import scheduling
from links.outcome import CheckOutcome, Sighting, rel_type_tokens
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
        """Scheduled by now and not held by a check task (``lease_until``)."""
        now = now or timezone.now()
        return self.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lte=now), next_check_at__lte=now
        )


class Backlink(models.Model):
    # No index of its own: every recorded check rewrites each index of the row
    # (it moves next_check_at and last_checked_at, both indexed, so the update
    # is never HOT), and the campaign is already the first column of the
    # unique constraint and of four indexes below.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="backlinks", db_index=False
    )
    target_page = models.ForeignKey(
        TargetPage, on_delete=models.SET_NULL, null=True, blank=True, related_name="backlinks"
    )
    prospect = models.ForeignKey(
        Prospect, on_delete=models.SET_NULL, null=True, blank=True, related_name="backlinks"
    )
    source_url = models.URLField(max_length=2000)
    source_url_key = models.CharField(max_length=2000, editable=False)
    source_domain = models.CharField(max_length=253, editable=False)
    # The campaign's first link from this site (earliest won_on, then id): a
    # new referring domain. Kept by database triggers (links/0022), whatever
    # writes, so the charts count sites from the per-day counts.
    first_of_site = models.BooleanField(default=False, editable=False)
    # The first link from this site in any campaign (same order): a referring
    # domain new to the whole agency. Kept by database triggers (links/0024),
    # for the every-campaign referring-domain chart.
    first_of_site_overall = models.BooleanField(default=False, editable=False)
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
        # Nothing reads backlinks by who won them; without the index a recorded
        # check writes one index entry less, and only deleting a user scans.
        db_index=False,
    )
    won_on = models.DateField(default=timezone.localdate)
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # The fee agreed with the prospect it came from (Prospect.fee), which is
    # what the link cost when no cost is recorded; copied by database triggers
    # (links/0022) so the per-day cost counts need no join.
    prospect_fee = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )

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
    # When relevance was last computed: a check scores again only when this is
    # older than RELEVANCE_RESCORE_DAYS and the page changed, or the target's
    # text was read again since (links.relevance).
    relevance_scored_at = models.DateTimeField(null=True, blank=True)
    # The quality score (campaigns.quality) and the parts that explain it, kept
    # by links.quality whenever an input changes, so lists sort and filter on it
    # in the database; null until first computed.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_parts = models.JSONField(null=True, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # Held by a check task until then (links.dispatch): the task records only
    # while its lease is still the one here, and recording clears it. A column
    # of its own, in no index, so that a claim can be a HOT update (the table
    # leaves room on each page for it: fillfactor, migration 0019); moving
    # next_check_at instead rewrote every index of the row.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lost_at = models.DateTimeField(null=True, blank=True)
    # When ``state`` last changed: a link that changed recently is watched daily.
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # The page hash of the last check: unchanged pages don't store their snippet again.
    last_page_hash = models.CharField(max_length=64, blank=True)
    # Since when the page has failed without a break; "unreachable" is decided from it.
    failing_since = models.DateTimeField(null=True, blank=True)
    # Set by "re-check now"; the page polls until last_checked_at passes it.
    check_requested_at = models.DateTimeField(null=True, blank=True)
    # The link was last found only once the page's scripts had run (Chromium):
    # its checks go straight to the render queue (links.dispatch).
    needs_render = models.BooleanField(default=False)
    # How long the last check's render took, when it rendered the page (the
    # re-check button's row says so without reading the check history).
    last_render_ms = models.PositiveIntegerField(null=True, blank=True)
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
            # (campaign, source_domain) is the prefix of backlink_campaign_domain_won.
            # The all-campaigns dashboard: links won in a date range (this
            # index's prefix), and each domain's first link (read from the index
            # alone, in domain order).
            models.Index(fields=["won_on", "id"], name="backlink_won_on_id"),
            models.Index(fields=["source_domain", "won_on"], name="backlink_domain_won_on"),
            # The referring-domain charts read only each campaign's first link
            # from a site.
            models.Index(
                fields=["campaign", "source_domain", "won_on"],
                condition=Q(first_of_site=True),
                name="backlink_first_of_site",
            ),
            # The every-campaign flag's triggers: a site's flagged link.
            models.Index(
                fields=["source_domain"],
                condition=Q(first_of_site_overall=True),
                name="backlink_first_overall",
            ),
            # One campaign's first link per domain, from the index alone.
            models.Index(
                fields=["campaign", "source_domain", "won_on"], name="backlink_campaign_domain_won"
            ),
            # The backlinks table sorted or filtered by quality.
            models.Index(fields=["campaign", "quality"], name="backlink_campaign_quality"),
            # The other sorts of the table (links.queries.SORTS): an API page over
            # all visible campaigns reads the index entries after its cursor
            # (api.pagination) instead of sorting every backlink.
            models.Index(fields=["last_checked_at", "id"], name="backlink_checked_id"),
            models.Index(fields=["source_domain", "id"], name="backlink_domain_id"),
            models.Index(fields=["quality", "id"], name="backlink_quality_id"),
        ]

    def __str__(self) -> str:
        return f"{self.source_url} → {self.target_url}"

    def save(self, *args, **kwargs):
        self.set_urls(self.source_url, self.target_url)
        super().save(*args, **kwargs)

    # How long "re-check now" may wait for a worker before the page gives up
    # polling and says the check is still queued.
    RECHECK_TIMEOUT = timedelta(seconds=60)

    @property
    def is_being_checked(self) -> bool:
        """A check task holds it: its next_check_at is the schedule it had, now
        past, until the check is recorded."""
        return self.lease_until is not None and self.lease_until > timezone.now()

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

    # The fields apply() rewrites.
    CHECK_FIELDS = [
        "state",
        "last_verdict",
        "noindex",
        "canonical_url",
        "robots_txt_blocked",
        "first_seen_at",
        "last_checked_at",
        "next_check_at",
        "lease_until",
        "lost_at",
        "failing_since",
        "state_changed_at",
        "last_page_hash",
        "placement",
        "link_kind",
        "link_rel",
        "relevance",
        "relevance_terms",
        "relevance_scored_at",
        "needs_render",
        "last_render_ms",
    ]

    def _set_state(self, state: str, now: datetime) -> bool:
        if self.state == state:
            return False
        self.state = state
        self.state_changed_at = now
        return True

    def apply(
        self, outcome: CheckOutcome, *, now: datetime, previous: Sighting | None = None
    ) -> list[tuple[str, str]]:
        """Apply one check's outcome: DESIGN.md's loss rules move the link to its new
        state and schedule its next check. Returns the alerts it raises, as (kind,
        message). Saves nothing: the caller writes CHECK_FIELDS and the alerts, in
        the transaction that holds the row's lock. ``previous`` is what the last
        check that found the link saw (None when no check ever did).
        """
        alerts: list[tuple[str, str]] = []
        before = self.state
        where = self.source_url
        self.lease_until = None  # the check is done: the next one is scheduled below
        self.last_checked_at = now
        self.last_verdict = outcome.verdict
        self.last_page_hash = outcome.page_hash
        self.last_render_ms = outcome.render_ms if outcome.rendered else None
        if outcome.relevance is not None:
            # Kept whatever the verdict: it is about the page, not the link.
            self.relevance = outcome.relevance
            self.relevance_terms = outcome.relevance_terms
            self.relevance_scored_at = now

        if outcome.found:
            # Found in the raw HTML, the page no longer needs Chromium; found
            # only rendered, it does from now on. A page where the link is not
            # found says nothing either way.
            self.needs_render = outcome.rendered
            self.failing_since = None
            self.lost_at = None
            self.first_seen_at = self.first_seen_at or now
            self.noindex = bool(outcome.flags.get("noindex"))
            self.canonical_url = (outcome.flags.get("canonical") or "")[:2000]
            self.robots_txt_blocked = bool(outcome.flags.get("robots_txt_blocked"))
            primary = outcome.primary_anchor or {}
            self.placement = primary.get("placement") or ""
            self.link_kind = primary.get("kind") or ""
            self.link_rel = rel_type_tokens(primary.get("rel"))
            new_state = (
                BacklinkState.LIVE if outcome.verdict == Verdict.LIVE else BacklinkState.NOFOLLOW
            )
            self._set_state(new_state, now)
            if before in {BacklinkState.LOST, BacklinkState.UNREACHABLE}:
                alerts.append((Alert.Kind.RECOVERED, f"The link on {where} is back."))
            elif new_state == BacklinkState.NOFOLLOW and before != BacklinkState.NOFOLLOW:
                alerts.append(
                    (
                        Alert.Kind.NOFOLLOW,
                        f"The link on {where} no longer passes value "
                        "(nofollow, ugc, sponsored or a page-level nofollow).",
                    )
                )
            anchor = outcome.anchors[0].get("text", "") if outcome.anchors else ""
            wrong_target = any(d.get("kind") == "target" for d in outcome.differences)
            if previous is not None and anchor != previous.anchor_text:
                alerts.append(
                    (
                        Alert.Kind.ANCHOR_CHANGED,
                        f"The anchor text on {where} changed from {previous.anchor_text!r} "
                        f"to {anchor!r}.",
                    )
                )
            if previous is not None and wrong_target and not previous.wrong_target:
                alerts.append(
                    (
                        Alert.Kind.TARGET_CHANGED,
                        f"The link on {where} now points at another page than agreed.",
                    )
                )
            if (
                previous is not None
                and previous.placement == Placement.CONTENT
                and self.placement not in ("", Placement.CONTENT)
            ):
                # Only a known placement counts: a page read without a tree (too
                # deep) says nothing about where the link went.
                alerts.append(
                    (
                        Alert.Kind.MOVED_OUT_OF_CONTENT,
                        f"The link on {where} moved out of the content, into the "
                        f"{self.get_placement_display().lower()}.",
                    )
                )
            self.next_check_at = now + scheduling.with_jitter(
                scheduling.settled_interval(
                    now=now,
                    first_seen_at=self.first_seen_at,
                    state_changed_at=self.state_changed_at,
                )
            )
            return alerts

        if outcome.verdict == Verdict.MISSING or outcome.gone:
            self.failing_since = (
                None if outcome.verdict == Verdict.MISSING else (self.failing_since or now)
            )
            if before == BacklinkState.LOST:
                self.next_check_at = now + scheduling.with_jitter(scheduling.WEEK)
                return alerts
            if before == BacklinkState.UNCONFIRMED:
                # The second negative observation in a row: the loss is confirmed.
                self._set_state(BacklinkState.LOST, now)
                self.lost_at = now
                reason = (
                    f"the page answers {outcome.http_status}"
                    if outcome.gone
                    else "the link is no longer on the page"
                )
                alerts.append((Alert.Kind.LOST, f"Lost the link on {where}: {reason}."))
                self.next_check_at = now + scheduling.with_jitter(scheduling.DAY)
                return alerts
            # One observation is not a loss: pages are edited, caches serve stale copies.
            self._set_state(BacklinkState.UNCONFIRMED, now)
            self.next_check_at = now + timedelta(minutes=settings.VERIFIER_CONFIRM_MINUTES)
            return alerts

        # A transient error: we could not tell. Never a loss; retried with backoff.
        self.failing_since = self.failing_since or now
        self.next_check_at = now + scheduling.error_backoff(
            now=now, failing_since=self.failing_since
        )
        if before == BacklinkState.UNCONFIRMED:
            # Keep waiting for a real second observation.
            self.next_check_at = now + timedelta(minutes=settings.VERIFIER_CONFIRM_MINUTES)
            return alerts
        failing_for = now - self.failing_since
        if failing_for >= timedelta(days=settings.VERIFIER_UNREACHABLE_DAYS):
            if self._set_state(BacklinkState.UNREACHABLE, now):
                days = failing_for.days
                alerts.append(
                    (
                        Alert.Kind.UNREACHABLE,
                        f"{where} has failed for {days} days ({outcome.error or 'error'}).",
                    )
                )
        elif before not in {BacklinkState.LOST, BacklinkState.UNREACHABLE}:
            self._set_state(BacklinkState.ERROR, now)
        return alerts


class TargetText(models.Model):
    """A target page's main text and terms, as the relevance scores compare with.

    Read through the verifier's fetcher once per RELEVANCE_REFRESH_DAYS (a page
    that could not be read is tried again after an hour), never per check; one
    row per URL, shared by every campaign that targets it.
    """

    # Failed reads are retried after this long, not on every check of a batch.
    RETRY_AFTER = timedelta(hours=1)

    url = models.URLField(max_length=2000, unique=True)
    text = models.TextField(blank=True)
    # links.verification.relevance.Terms.to_json(); empty when the page could not be read.
    terms = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField()
    # When the terms last differed from the read before: backlinks scored
    # before it are scored again at their next check.
    changed_at = models.DateTimeField()
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.url

    def is_stale(self, *, now: datetime, max_age: timedelta) -> bool:
        age = now - self.fetched_at
        return age >= (self.RETRY_AFTER if self.error else max_age)


class LinkCheck(models.Model):
    """One row per verification, with its evidence. Old checks that changed
    nothing are folded into CheckSummary rows (links.history); PostgreSQL keeps
    the table partitioned by month of checked_at (migration 0015)."""

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
    # The verdict was judged on the page as headless Chromium rendered it, which
    # took render_ms of the duration.
    rendered = models.BooleanField(default=False)
    render_ms = models.PositiveIntegerField(default=0)
    # Derived, kept by a database trigger (migration 0004) whatever writes the
    # row: True when this check moves its backlink between "live" and "not
    # live", compared with the backlink's previous check that had a verdict
    # (error checks prove nothing and never count; a first check counts when it
    # is live). The dashboard's live-over-time chart sums these few rows instead
    # of replaying a million checks.
    live_changed = models.BooleanField(default=False, editable=False)

    # The history page shows kept checks and folded summaries in one list.
    is_folded = False

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


class CheckSummary(models.Model):
    """Checks folded by links.history: ``count`` consecutive checks of one
    backlink, in one period, that each found what the check before them found
    (the fields below, from verdict to error), so the history still answers
    what it did with one row instead of many.

    ``run_started_at`` is when the kept check they repeat was made: a period's
    folded checks that repeat different checks stay apart. A ``retained`` row
    stands for a month of checks dropped by CHECK_RETENTION_MONTHS; its
    ``live_delta`` carries the dropped live_changed transitions (+1/-1) so the
    live-over-time chart keeps its level for the months that remain.
    """

    class PeriodKind(models.TextChoices):
        DAY = "day", "Day"
        WEEK = "week", "Week"
        MONTH = "month", "Month"
        RETAINED = "retained", "Dropped by retention"

    backlink = models.ForeignKey(Backlink, on_delete=models.CASCADE, related_name="check_summaries")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    run_started_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField()
    first_checked_at = models.DateTimeField()
    last_checked_at = models.DateTimeField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    anchors = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=dict, blank=True)
    differences = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    live_delta = models.SmallIntegerField(default=0)

    class Meta:
        ordering = ["-last_checked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["backlink", "period_kind", "period_start", "run_started_at"],
                name="checksummary_unique_run_period",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=Verdict.values), name="checksummary_verdict_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["backlink", "last_checked_at"], name="checksummary_backlink_time"),
            # The few rows the live-over-time chart adds to the transitions.
            models.Index(
                fields=["backlink", "period_start"],
                name="checksummary_live_delta",
                condition=~Q(live_delta=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} checks {self.verdict} until {self.last_checked_at:%Y-%m-%d %H:%M}"

    # The history page shows kept checks and folded summaries in one list.
    is_folded = True


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
            # The API's alert list over every visible campaign, newest first.
            models.Index(fields=["created_at", "id"], name="alert_created_id"),
            models.Index(fields=["mailed_at"], name="alert_unmailed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"


class BacklinkTally(models.Model):
    """Signed counts of a campaign's backlinks, written by database triggers
    (config.tallies.BACKLINKS): a campaign's counts are the sums of its rows."""

    # No foreign key constraint, as outreach.ProspectTally.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    backlinks = models.IntegerField(default=0)
    live_backlinks = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}: {self.backlinks:+} / {self.live_backlinks:+}"


class BacklinkStateTally(models.Model):
    """Signed counts of a campaign's backlinks per state (database triggers,
    config.tallies.BACKLINK_STATES): the campaign page's link states."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    state = models.CharField(max_length=16, choices=BacklinkState.choices)
    backlinks = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "state"], name="backlinkstate_campaign")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.state}: {self.backlinks:+}"


class BacklinkDay(models.Model):
    """Signed counts of a campaign's backlinks won on a day, written by database
    triggers (config.tallies.BACKLINK_DAYS) for the dashboard's charts; the
    counts are the sums of a (campaign, won_on)'s rows."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    won_on = models.DateField()
    links = models.IntegerField(default=0)
    lost = models.IntegerField(default=0)
    nofollow = models.IntegerField(default=0)
    seen = models.IntegerField(default=0)
    follow = models.IntegerField(default=0)
    sponsored = models.IntegerField(default=0)
    ugc = models.IntegerField(default=0)
    rel_nofollow = models.IntegerField(default=0)
    text = models.IntegerField(default=0)
    image = models.IntegerField(default=0)
    content = models.IntegerField(default=0)
    boilerplate = models.IntegerField(default=0)
    scored = models.IntegerField(default=0)
    quality_total = models.BigIntegerField(default=0)
    # Links that are their campaign's first from their site (first_of_site).
    first_links = models.IntegerField(default=0)
    # What the links cost: the recorded cost, else the prospect's fee.
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "won_on"], name="backlinkday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.won_on}: {self.links:+}"


class AlertDay(models.Model):
    """Signed counts of a campaign's lost, turned-nofollow and recovered alerts
    per (site-local) day raised (database triggers, config.tallies.ALERT_DAYS)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    lost = models.IntegerField(default=0)
    nofollow = models.IntegerField(default=0)
    recovered = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "day"], name="alertday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.day}: {self.lost:+} lost"


class ReferringDomainDay(models.Model):
    """Signed counts of the sites whose first link in any campaign was won on a
    day (Backlink.first_of_site_overall), kept per campaign that won it by
    database triggers (config.tallies.REFERRING_DOMAIN_DAYS): the every-campaign
    referring-domain chart."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    won_on = models.DateField()
    domains = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["won_on"], name="referringdomainday_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.won_on}: {self.domains:+}"


class AnchorDay(models.Model):
    """Signed counts of a campaign's links not lost, per day won, anchor text
    (trimmed, lower case) and target page: the anchor-text mix
    (config.tallies.ANCHOR_DAYS)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    won_on = models.DateField()
    anchor = models.CharField(max_length=500)
    target_page = models.ForeignKey(
        TargetPage, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    links = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "won_on"], name="anchorday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.won_on}, {self.anchor!r}: {self.links:+}"


class LiveCheckDay(models.Model):
    """A campaign's net live transitions on a (site-local) day: +1 per check
    that found a backlink live after not live, -1 the other way (database
    triggers, config.tallies.LIVE_CHECKS)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    delta = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "day"], name="livecheckday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.day}: {self.delta:+}"


class LiveSummaryDay(models.Model):
    """The net live transitions that folded history left on CheckSummary rows,
    per campaign and the summary's first day (config.tallies.LIVE_SUMMARIES)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    delta = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign", "day"], name="livesummaryday_campaign_day")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, {self.day}: {self.delta:+}"
