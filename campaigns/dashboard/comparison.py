"""Us against competitors: the campaign's backlink profile beside each
competitor's, from the exports uploaded for the link gap.

"Ours" is the links Anchorage tracks for the campaign that are not lost; an
export of our own site, when one was uploaded, is a side of its own ("Ours,
export"), since an SEO tool sees links nobody recorded here. Each competitor is
its latest finished export (a re-upload replaces the older one on this page;
the link gap still reads them all).

Figures per side, with how they are counted:

* referring domains: distinct sites (registrable domains), and links;
* domain rating distribution: each referring domain once, by its rating in
  buckets of ten (ours: from the campaign's prospects of that site, else the
  link-gap exports), as a share of the side's domains;
* follow ratio: of the links whose follow status is known (ours: found by
  their latest check; theirs: the file's Nofollow / UGC / Sponsored or rel
  column), the share that pass value;
* anchor-text mix: links by anchor class (links.prospecting.profile; ours: the
  agreed anchor text), as a share of the side's links with an anchor;
* links per month: ours by the day they were won, theirs by "first seen".

Every figure is aggregated in the database; the page runs a fixed number of
queries whatever the number of links (pinned in its tests).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Least, Lower, Trim, TruncMonth
from django.utils import timezone

from campaigns.dashboard.charts import Chart, Series
from campaigns.dashboard.panels import Panel, PanelSpec
from campaigns.models import Campaign
from links import quality
from links.models import Backlink, BacklinkState
from links.prospecting import profile
from links.prospecting.models import (
    BacklinkExport,
    ExportFacet,
    ExportState,
    FacetKind,
    ReferringDomain,
)

# Competitors shown side by side (the most referring domains first); the rest
# are named in a note.
MAX_COMPETITORS = 6
MONTHS_SHOWN = 24
# Our distinct anchors read to classify them; the rare rest count as "other".
MAX_OUR_ANCHORS = 5000
DR_LABELS = [f"{n}-{n + 9}" for n in range(0, 90, 10)] + ["90-100", "Unknown"]
PAGES_PAGE_SIZE = 25


@dataclass
class Side:
    label: str
    is_ours: bool
    export: BacklinkExport | None = None
    domains: int = 0
    links: int = 0
    # Ten buckets of ten, then unknown.
    dr: list[int] = field(default_factory=lambda: [0] * len(DR_LABELS))
    follow: int = 0
    nofollow: int = 0
    anchors: Counter[str] = field(default_factory=Counter)
    months: Counter[date] = field(default_factory=Counter)

    @property
    def follow_share(self) -> float | None:
        known = self.follow + self.nofollow
        return round(100 * self.follow / known, 1) if known else None

    @property
    def anchored(self) -> int:
        return sum(self.anchors.values())


@dataclass
class Comparison:
    sides: list[Side]
    months: list[date]
    left_out: list[str]

    @property
    def competitors(self) -> list[Side]:
        return [side for side in self.sides if not side.is_ours]


def _months(today: date) -> list[date]:
    month = today.replace(day=1)
    months = [month]
    for _ in range(MONTHS_SHOWN - 1):
        month = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def _bucket(rating: int | None) -> int:
    return len(DR_LABELS) - 1 if rating is None else min(rating // 10, 9)


def _ours(campaign: Campaign, first_month: date) -> Side:
    side = Side("Ours (tracked links)", is_ours=True)
    links = Backlink.objects.filter(campaign=campaign).exclude(state=BacklinkState.LOST).order_by()
    totals = links.aggregate(
        links=Count("pk"),
        domains=Count("source_domain", distinct=True),
        follow=Count("pk", filter=Q(state=BacklinkState.LIVE)),
        nofollow=Count("pk", filter=Q(state=BacklinkState.NOFOLLOW)),
    )
    side.links, side.domains = totals["links"], totals["domains"]
    side.follow, side.nofollow = totals["follow"], totals["nofollow"]

    # The ratings the quality score uses: the link's prospect, else the site's
    # best prospect, else the competitor exports.
    site_rating, gap_rating = quality.site_ratings()
    ratings = links.values("campaign_id", "source_domain").annotate(
        rating=Coalesce(Max("prospect__domain_rating"), site_rating, gap_rating)
    )
    for row in ratings:  # one row per referring domain
        side.dr[_bucket(row["rating"])] += 1

    anchors = (
        links.values(anchor=Lower(Trim("expected_anchor_text")))
        .annotate(n=Count("pk"))
        .order_by("-n", "anchor")[:MAX_OUR_ANCHORS]
    )
    brand = profile.brand_of(campaign.site)
    for row in anchors:
        side.anchors[profile.anchor_class(profile.clean_anchor(row["anchor"]), brand)] += row["n"]
    side.anchors["other"] += side.links - sum(side.anchors.values())

    per_month = (
        links.filter(won_on__gte=first_month)
        .values(month=TruncMonth("won_on"))
        .annotate(n=Count("pk"))
    )
    for row in per_month:
        side.months[row["month"]] = row["n"]
    return side


def _latest_exports(campaign: Campaign) -> tuple[list[BacklinkExport], list[str]]:
    """The latest finished export of each competitor (most referring domains
    first, at most MAX_COMPETITORS) and of our own site; and the competitors
    left out."""
    latest: dict[tuple[bool, str], BacklinkExport] = {}
    for export in BacklinkExport.objects.filter(campaign=campaign, state=ExportState.DONE).order_by(
        "-uploaded_at", "-pk"
    )[:500]:
        latest.setdefault((export.is_ours, export.competitor), export)
    ours = [e for (is_ours, _), e in latest.items() if is_ours][:1]
    theirs = sorted(
        (e for (is_ours, _), e in latest.items() if not is_ours),
        key=lambda e: (-e.domain_count, e.competitor),
    )
    shown = theirs[:MAX_COMPETITORS]
    return ours + shown, [e.competitor for e in theirs[MAX_COMPETITORS:]]


def compare(campaign: Campaign, *, today: date | None = None) -> Comparison:
    months = _months(today or timezone.localdate())
    sides = [_ours(campaign, months[0])]
    exports, left_out = _latest_exports(campaign)
    by_export: dict[int, Side] = {}
    for export in exports:
        label = f"Ours (export {export.original_name})" if export.is_ours else export.competitor
        side = Side(label, is_ours=export.is_ours, export=export)
        side.domains = export.domain_count
        side.links = export.rows_read - export.rows_skipped
        side.follow, side.nofollow = export.links_follow, export.links_nofollow
        sides.append(side)
        by_export[export.pk] = side
    if by_export:
        buckets = (
            ReferringDomain.objects.filter(export_id__in=by_export)
            .order_by()
            .values("export_id", bucket=Least(F("domain_rating") / Value(10), Value(9)))
            .annotate(n=Count("pk"))
        )
        for row in buckets:
            bucket = len(DR_LABELS) - 1 if row["bucket"] is None else int(row["bucket"])
            by_export[row["export_id"]].dr[bucket] += row["n"]
        facets = ExportFacet.objects.filter(
            export_id__in=by_export, kind__in=[FacetKind.ANCHOR, FacetKind.MONTH]
        ).values_list("export_id", "kind", "key", "links")
        for export_id, kind, key, links in facets:
            side = by_export[export_id]
            if kind == FacetKind.ANCHOR:
                side.anchors[key] += links
            else:
                side.months[date.fromisoformat(f"{key}-01")] += links
    return Comparison(sides, months, left_out)


def most_linked_pages(comparison: Comparison) -> QuerySet[ExportFacet]:
    """The competitors' pages with the most referring domains, across the
    exports shown (each keeps its top pages, see gap.PAGES_KEPT)."""
    ids = [side.export.pk for side in comparison.competitors if side.export is not None]
    return (
        ExportFacet.objects.filter(export_id__in=ids, kind=FacetKind.PAGE)
        .annotate(competitor=F("export__competitor"))
        .order_by("-domains", "-links", "key", "pk")
    )


# --- Charts ------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _spec(panel_id: str, title: str, chart_type: str, label_header: str, definition: str,
          empty: str, **options: Any) -> PanelSpec:  # fmt: skip
    # The comparison builds its charts itself; the spec only says how to draw them.
    return PanelSpec(panel_id, title, _unused, chart_type, label_header, definition, empty,
                     **options)  # fmt: skip


def _unused(*_args: Any) -> Chart:
    raise NotImplementedError


def panels(comparison: Comparison) -> list[Panel]:
    sides = comparison.sides
    labels = [side.label for side in sides]
    charts: list[tuple[PanelSpec, Chart]] = []

    charts.append((
        _spec("cmp-domains", "Referring domains", "bar", "Site",
              "Distinct referring sites (registrable domains) of each side, and its links.",
              "No links on either side yet.", value_title="Referring domains", tones=("accent",)),
        Chart(labels, [
            Series("domains", "Referring domains", [s.domains for s in sides]),
            Series("links", "Links", [s.links for s in sides], plot=False),
        ]),
    ))  # fmt: skip

    dr_series = [
        Series(f"dr-{i}", side.label, [_share(n, sum(side.dr)) for n in side.dr], format="percent")
        for i, side in enumerate(sides)
    ]
    charts.append((
        _spec("cmp-dr", "Domain rating distribution", "bar", "Domain rating",
              "Each side's referring domains by domain rating, as a share of its domains. "
              "Ours: the rating imported with the campaign's prospects of that site, else the "
              "one in the link-gap exports.",
              "No referring domains on either side yet.", value_title="% of domains"),
        Chart(DR_LABELS, dr_series),
    ))  # fmt: skip

    charts.append((
        _spec("cmp-follow", "Follow ratio", "bar", "Site",
              "Of the links whose follow status is known, the share that pass value. Ours: "
              "found live or nofollow by their latest check; theirs: the export's Nofollow, "
              "UGC, Sponsored or rel column (no such column: unknown).",
              "No link's follow status is known yet.", value_title="% follow",
              tones=("ok",)),
        Chart(labels, [
            Series("share", "% follow", [s.follow_share for s in sides], format="percent"),
            Series("follow", "Follow", [s.follow for s in sides], plot=False),
            Series("nofollow", "Nofollow, UGC or sponsored", [s.nofollow for s in sides],
                   plot=False),
        ]),
    ))  # fmt: skip

    charts.append((
        _spec("cmp-anchors", "Anchor-text mix", "bar", "Site",
              "Each side's links by anchor text, as a share of its links with an anchor: "
              "branded (the site's name), naked URL, generic (“click here”, “website”), "
              "keyword or other, and no text (images). Ours: the agreed anchor text. A "
              "natural profile is mostly branded and URL anchors.",
              "No anchor texts on either side (an export without an anchor column has none).",
              horizontal=True, stacked=True, value_title="% of links"),
        Chart(labels, [
            Series(key, label, [_share(s.anchors[key], s.anchored) for s in sides],
                   format="percent")
            for key, label in profile.ANCHOR_CLASSES
        ]),
    ))  # fmt: skip

    charts.append((
        _spec("cmp-months", "Links per month", "line", "Month",
              f"Links per month over the last {MONTHS_SHOWN} months: ours by the day they "
              "were won, theirs by the export's “first seen” date (an export without one "
              "has no line).",
              "No dated links in these months.", value_title="Links"),
        Chart([m.strftime("%Y-%m") for m in comparison.months], [
            Series(f"m-{i}", side.label, [side.months.get(m, 0) for m in comparison.months])
            for i, side in enumerate(sides)
        ]),
    ))  # fmt: skip
    return [Panel(spec, chart) for spec, chart in charts]
