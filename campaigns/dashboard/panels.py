"""The dashboard page's panels: what each chart is called, how it is drawn and
explained, and the Chart.js data and table fallback built from its query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from campaigns.dashboard import charts
from campaigns.dashboard.charts import Chart, Number, Period
from campaigns.models import Campaign


@dataclass(frozen=True)
class PanelSpec:
    id: str
    title: str
    query: Callable[[QuerySet[Campaign], Period], Chart]
    chart_type: str  # "bar" or "line"
    label_header: str
    definition: str
    empty: str
    horizontal: bool = False
    stacked: bool = False
    value_title: str = ""
    # Colour names for the plotted series, in order (see static/js/dashboard-charts.js).
    tones: tuple[str, ...] = ()


PANELS = [
    PanelSpec(
        "links-won",
        "Links won per week",
        charts.links_won_per_week,
        "bar",
        "Week of",
        "Backlinks by the day they were won. Nofollow means agreed as nofollow, or found "
        "nofollow by the latest check.",
        "No links won in this period. A link counts here once it is recorded as won.",
        stacked=True,
        value_title="Links won",
        tones=("ok", "warn"),
    ),
    PanelSpec(
        "live",
        "Live backlinks over time",
        charts.live_backlinks_over_time,
        "line",
        "Week of",
        "At the end of each week, the backlinks whose latest check found them live. Checks "
        "that ended in an error are skipped: they prove neither that a link is there nor "
        "that it is gone.",
        "No backlink had been found live by the end of this period. Backlinks are counted "
        "once the verifier has checked them.",
        value_title="Live backlinks",
        tones=("ok",),
    ),
    PanelSpec(
        "lost-recovered",
        "Lost and recovered links per week",
        charts.lost_and_recovered_per_week,
        "bar",
        "Week of",
        "From the alerts: a link is lost once a second check confirms it is missing; "
        "recovered when a lost link is found again.",
        "No link was lost, turned nofollow or recovered in this period.",
        value_title="Links",
        tones=("bad", "warn", "ok"),
    ),
    PanelSpec(
        "funnel",
        "Pipeline funnel",
        charts.pipeline_funnel,
        "bar",
        "Step",
        "The prospects added in this period, by the furthest step their status history "
        "reached by its end. A prospect that reached a step also counts for every step "
        "before it; a lost or unresponsive one counts up to the step it had reached.",
        "No prospects were added in this period. Add or import prospects to see the funnel.",
        horizontal=True,
        value_title="Prospects",
        tones=("accent",),
    ),
    PanelSpec(
        "activity",
        "Outreach activity per member",
        charts.outreach_activity_per_member,
        "bar",
        "Week of",
        "Emails, follow-ups, replies, calls, pitches and notes logged, per person and week.",
        "No outreach was logged in this period.",
        stacked=True,
        value_title="Activities",
    ),
    PanelSpec(
        "kinds",
        "Prospects and wins by kind",
        charts.prospects_by_kind,
        "bar",
        "Kind",
        "Of the prospects added in this period: how many of each kind, how many are won "
        "now, and the win rate — which kind of outreach actually yields links.",
        "No prospects were added in this period.",
        value_title="Prospects",
        tones=("accent", "ok"),
    ),
    PanelSpec(
        "anchors",
        "Anchor-text mix",
        charts.anchor_text_mix,
        "bar",
        "Anchor text",
        "The agreed anchor texts of the links won in this period that are not lost, most "
        "used first. " + charts.EXACT_MATCH_DEFINITION,
        "No links won in this period, so no anchors to show.",
        horizontal=True,
        stacked=True,
        value_title="Links",
        tones=("warn", "accent"),
    ),
    PanelSpec(
        "link-types",
        "Link types",
        charts.link_types,
        "bar",
        "Link type",
        charts.LINK_TYPES_DEFINITION,
        "No link won in this period has been found on its page yet.",
        horizontal=True,
        value_title="Links",
        tones=("accent",),
    ),
    PanelSpec(
        "domains",
        "Unique referring domains",
        charts.referring_domains_over_time,
        "line",
        "Week of",
        "Distinct domains linking to the site, counted from their first won link on (links "
        "lost since still count: the domain did link).",
        "No links won yet, so no referring domains.",
        value_title="Domains",
        tones=("accent",),
    ),
    PanelSpec(
        "new-domains",
        "New referring domains per week",
        charts.new_referring_domains_per_week,
        "bar",
        "Week of",
        "Sites (registrable domains, so blog.example.com is example.com) whose first won "
        "link in the campaign falls in each week. Diversity of referring domains is what "
        "counts: a tenth link from a site adds little.",
        "No site linked to the campaign for the first time in this period.",
        value_title="Domains",
        tones=("ok",),
    ),
    PanelSpec(
        "quality",
        "Quality over time",
        charts.quality_over_time,
        "line",
        "Week of",
        "The average quality score (0-100) of the links won each week. A score weighs "
        "domain rating, topical relevance, follow, placement in the content and being a "
        "new referring domain; a part not known yet counts as neutral. Hover a score in "
        "the backlinks list for its parts.",
        "No scored link was won in this period.",
        value_title="Average quality",
        tones=("accent",),
    ),
    PanelSpec(
        "cost",
        "Cost per won link",
        charts.cost_per_link,
        "bar",
        "Month",
        "What the links won each month cost, divided by the number of links won (free links "
        "included). A link's cost is the one recorded on it or, when none was recorded, the "
        "fee agreed with the guest-post site it came from; never both, so a fee copied into "
        "the cost is not counted twice.",
        "No links won in this period.",
        value_title="Cost per link",
        tones=("accent",),
    ),
    PanelSpec(
        "goal",
        "Goal progress",
        charts.goal_progress,
        "bar",
        "Campaign",
        "Links won to date and not lost, against each campaign's goal (the dates above do "
        "not change it).",
        "No goal set. Set the links wanted, and by when, on the campaign.",
        horizontal=True,
        value_title="Links",
        tones=("ok", "muted"),
    ),
]


def _number(value: Number) -> Number:
    # JSON has no decimals; Chart.js needs numbers, not the strings Django's
    # encoder would make of them.
    return float(value) if isinstance(value, Decimal) else value


def format_value(value: Number, fmt: str) -> str:
    if value is None or value == "":
        return "—"
    if fmt == "money":
        return f"{value:.2f}"
    if fmt == "percent":
        return f"{value:.1f}%"
    return str(value)


@dataclass
class Panel:
    spec: PanelSpec
    chart: Chart
    notes: list[str] = field(default_factory=list)
    warning: str = ""
    footer: list[str] = field(default_factory=list)

    @property
    def data_id(self) -> str:
        return f"{self.spec.id}-data"

    @property
    def empty(self) -> bool:
        return self.chart.is_empty

    @property
    def chartjs(self) -> dict[str, Any]:
        plotted = [s for s in self.chart.series if s.plot]
        return {
            "type": self.spec.chart_type,
            "horizontal": self.spec.horizontal,
            "stacked": self.spec.stacked,
            "valueTitle": self.spec.value_title,
            "labels": self.chart.labels,
            "datasets": [
                {
                    "label": s.label,
                    "data": [_number(v) for v in s.values],
                    "format": s.format,
                    "tone": self.spec.tones[i] if i < len(self.spec.tones) else i,
                }
                for i, s in enumerate(plotted)
            ],
        }

    @property
    def header(self) -> list[str]:
        return [self.spec.label_header, *(s.label for s in self.chart.series)]

    @property
    def rows(self) -> list[list[str]]:
        formats = [s.format for s in self.chart.series]
        return [
            [label, *(format_value(v, f) for v, f in zip(values, formats, strict=True))]
            for label, values in self.chart.rows()
        ]

    @property
    def height(self) -> int:
        """Pixels for the chart: horizontal bars grow with their labels."""
        if self.spec.horizontal:
            return max(200, 32 * len(self.chart.labels) + 70)
        return 280


PANELS_BY_ID = {spec.id: spec for spec in PANELS}


def build_panel(spec: PanelSpec, campaigns: QuerySet[Campaign], period: Period) -> Panel:
    """One panel, from one query."""
    panel = Panel(spec, spec.query(campaigns, period))
    _annotate(panel)
    return panel


def _annotate(panel: Panel) -> None:
    extra = panel.chart.extra
    if panel.spec.id == "anchors" and extra.get("total"):
        panel.notes.append(
            f"{extra['exact']} of {extra['total']} links ({extra['share']:.1f}%) use an "
            f"exact-match anchor. The warning threshold is {extra['threshold']}%."
        )
        if extra["warn"]:
            panel.warning = (
                f"Over-optimized anchors: {extra['share']:.1f}% exact match is above "
                f"{extra['threshold']}%. Search engines penalize a link profile this "
                "uniform; ask for branded, URL or generic anchors on the next links."
            )
    elif panel.spec.id == "link-types" and extra.get("total"):
        unknown = extra["placement_unknown"]
        if unknown:
            panel.notes.append(
                f"{unknown} of {extra['total']} links have no placement yet (last checked "
                "before placement was recorded, or on a page too deeply nested to tell): "
                "they count in the rel group only."
            )
    elif panel.spec.id == "cost" and extra.get("links"):
        per_link = format_value(extra["per_link"], "money")
        panel.notes.append(
            f"Whole period: {extra['links']} links for {extra['cost']:.2f}, {per_link} per link."
        )
        panel.footer = ["Whole period", per_link, str(extra["links"]), f"{extra['cost']:.2f}"]
