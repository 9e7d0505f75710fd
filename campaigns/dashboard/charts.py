"""The managers' dashboard charts.

Each function takes the campaigns to cover (a QuerySet: one campaign, or every
campaign a manager sees) and a Period, runs ONE query, and returns a Chart: the
x-axis labels and one list of values per series, which is also the table
fallback. Grouping, counting and running totals happen in the database; Python
only fills in the weeks or months that had no rows (at most Period.MAX_DAYS / 7
of them) and pivots a few grouped rows.

Weeks start on Monday, in the site's time zone (settings.TIME_ZONE), on
PostgreSQL and SQLite alike (TruncWeek). Where a chart needs a running total,
the ORM's grouped query is wrapped in a small outer SELECT with a standard
window function (SUM(...) OVER (ORDER BY ...)), which PostgreSQL and SQLite
3.25+ both run; Django cannot express a window over an aggregate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    Greatest,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone

from campaigns.models import Campaign, TargetPage
from links.models import (
    AlertDay,
    AnchorDay,
    Backlink,
    BacklinkDay,
    LiveCheckDay,
    LiveSummaryDay,
    Placement,
    ReferringDomainDay,
)
from outreach.models import (
    PIPELINE,
    ActivityDay,
    ActivityWeek,
    Kind,
    ProspectDay,
    StatusChange,
)

# --- Period -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """An inclusive range of days in the site's time zone."""

    start: date
    end: date

    DEFAULT_DAYS = 90
    # Bounds the weeks a chart can have (~105), so filling gaps stays cheap.
    MAX_DAYS = 731

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, *, today: date | None = None) -> Period:
        end = today or timezone.localdate()
        return cls(start=end - timedelta(days=days - 1), end=end)

    @property
    def starts_at(self) -> datetime:
        return _midnight(self.start)

    @property
    def ends_before(self) -> datetime:
        return _midnight(self.end + timedelta(days=1))

    @property
    def first_week(self) -> date:
        return week_of(self.start)

    def weeks(self) -> list[date]:
        first, last = week_of(self.start), week_of(self.end)
        return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]

    def months(self) -> list[date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def week_of(day: date) -> date:
    """The Monday of ``day``'s week, as TruncWeek computes it."""
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _week(field_name: str) -> TruncWeek:
    return TruncWeek(field_name, output_field=DateField())


def _as_date(value: date | datetime | str) -> date:
    """A date from a raw cursor: PostgreSQL returns dates, SQLite ISO strings."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _within(queryset: QuerySet, campaigns: QuerySet[Campaign], lookup: str) -> QuerySet:
    """``queryset`` limited to ``campaigns`` through ``lookup``. When ``campaigns``
    is every campaign (a manager's all-campaigns view) the filter would only add a
    join that removes nothing, and on the largest tables that join is most of the
    query's time, so it is left out."""
    if not campaigns.query.has_filters():
        return queryset
    return queryset.filter(**{f"{lookup}__in": campaigns})


# --- Results ------------------------------------------------------------------

Number = int | float | Decimal | str | None


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: list[Number]
    # "int", "money", "percent" or "text": how the table and the chart print a value.
    format: str = "int"
    # False for columns that only make sense in the table (a rate beside counts).
    plot: bool = True


@dataclass(frozen=True)
class Chart:
    labels: list[str]
    series: list[Series]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not any(value for s in self.series for value in s.values)

    def rows(self) -> list[tuple[str, list[Number]]]:
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]


def _weekly(period: Period, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> Chart:
    """Turn grouped rows with a ``week`` key into a Chart with a zero for every
    week that had no row."""
    by_week = {row["week"]: row for row in rows}
    weeks = period.weeks()
    return Chart(
        labels=[w.isoformat() for w in weeks],
        series=[
            Series(key, label, [by_week.get(w, {}).get(key) or 0 for w in weeks])
            for key, label in columns
        ],
    )


def _running_total(grouped: QuerySet, key: str, value_sql: str) -> list[tuple[date, int]]:
    """Run ``grouped`` (an ORM query with a ``key`` column) as a subquery, group it
    by ``key`` and return each key with the running total of ``value_sql`` (an
    aggregate over the subquery's columns, e.g. ``SUM("delta")`` or ``COUNT(*)``),
    in key order. One query."""
    connection = connections[grouped.db]
    sql, params = grouped.query.sql_with_params()
    column = connection.ops.quote_name(key)
    outer = (
        f"SELECT {column}, SUM({value_sql}) OVER (ORDER BY {column}) "  # noqa: S608 (no user input)
        f"FROM ({sql}) grouped GROUP BY {column} ORDER BY {column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        return [(_as_date(day), int(total)) for day, total in cursor.fetchall()]


def _carried(period: Period, totals: list[tuple[date, int]]) -> list[int]:
    """One value per week of the period: the running total as of that week."""
    by_week = dict(totals)
    values, current = [], 0
    for week in period.weeks():
        current = by_week.get(week, current)
        values.append(current)
    return values


# --- The charts -----------------------------------------------------------------


def _days(
    model: type[models.Model], campaigns: QuerySet[Campaign], day: str, period: Period
) -> QuerySet:
    """The rows of a per-day tally (config.tallies) for ``campaigns`` in ``period``."""
    return (
        _within(model.objects, campaigns, "campaign")
        .filter(**{f"{day}__range": (period.start, period.end)})
        .order_by()
    )


def links_won_per_week(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Per week, the links won, dofollow or not (agreed as nofollow, or found
    nofollow by the latest check): config.tallies.BACKLINK_DAYS."""
    rows = (
        _days(BacklinkDay, campaigns, "won_on", period)
        .values(week=_week("won_on"))
        .annotate(dofollow=Sum(F("links") - F("nofollow")), nofollow=Sum("nofollow"))
    )
    return _weekly(period, list(rows), [("dofollow", "Dofollow"), ("nofollow", "Nofollow")])


def live_backlinks_over_time(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Per week, the backlinks whose latest check with a verdict, up to the end of
    that week, found them live.

    Each backlink's live state is the sum of its transitions (+1 when a check
    finds it live after not live, -1 the other way), which the database marks on
    LinkCheck.live_changed as checks arrive and adds up per campaign and day
    (config.tallies.LIVE_CHECKS). So the count for a week is the running total
    of transitions up to it: transitions before the period are folded into its
    first week, which gives the starting level. Months of checks folded by
    retention leave their net transitions on a CheckSummary (links.history),
    dated the month they stood for (config.tallies.LIVE_SUMMARIES).
    """

    def by_week(model: type[models.Model]) -> QuerySet:
        first_week = Value(period.first_week, output_field=DateField())
        return (
            _within(model.objects, campaigns, "campaign")
            .filter(day__lte=period.end)
            .order_by()
            .values(bucket=Case(When(day__lt=first_week, then=first_week), default=_week("day")))
            .annotate(delta=Sum("delta"))
        )

    days = by_week(LiveCheckDay).union(by_week(LiveSummaryDay), all=True)
    totals = _running_total(days, "bucket", 'SUM("delta")')
    return Chart(
        labels=[w.isoformat() for w in period.weeks()],
        series=[Series("live", "Live backlinks", _carried(period, totals))],
    )


def lost_and_recovered_per_week(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """From the alerts the verifier raises, which already apply the loss rules (a
    missing link is lost only once a second check confirms it), counted per
    day raised in the site's time zone (config.tallies.ALERT_DAYS)."""
    kinds = ("lost", "nofollow", "recovered")
    rows = (
        _days(AlertDay, campaigns, "day", period)
        .values(week=_week("day"))
        .annotate(**{kind: Sum(kind) for kind in kinds})
    )
    return _weekly(
        period,
        list(rows),
        [("lost", "Lost"), ("nofollow", "Turned nofollow"), ("recovered", "Recovered")],
    )


def pipeline_funnel(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """The prospects added in the period, by the furthest pipeline step their
    status history reached by the end of the period. A prospect that reached
    "replied" also counts for every step before it; lost and unresponsive count
    up to the step they had reached before closing.

    A period that ends today reads config.tallies.PROSPECT_DAYS, which counts
    each prospect by its furthest step so far (Prospect.furthest_step), the
    same thing as by the period's end. A period that ended earlier reads the
    status history up to its end."""
    if period.end >= timezone.localdate():
        return _funnel(_funnel_so_far(campaigns, period))
    return _funnel(funnel_from_history(campaigns, period))


def funnel_from_history(campaigns: QuerySet[Campaign], period: Period) -> list[int]:
    """Per PIPELINE step, the prospects added in the period whose status
    history reached it by the end of the period."""
    rank = Case(
        *[When(to_status=status, then=Value(i)) for i, status in enumerate(PIPELINE)],
        default=None,
        output_field=IntegerField(),
    )
    reached = (
        _within(StatusChange.objects, campaigns, "prospect__campaign")
        .filter(
            prospect__created_at__gte=period.starts_at,
            prospect__created_at__lt=period.ends_before,
            changed_at__lt=period.ends_before,
        )
        .order_by()
        .values("prospect")
        .annotate(furthest=Max(rank))
    )
    counts = reached.aggregate(
        **{
            status.value: Count("prospect", filter=Q(furthest__gte=i))
            for i, status in enumerate(PIPELINE)
        }
    )
    return [counts[status.value] for status in PIPELINE]


def _funnel_so_far(campaigns: QuerySet[Campaign], period: Period) -> list[int]:
    reached = {status: f"reached_{status.value}" for status in PIPELINE}
    counts = _days(ProspectDay, campaigns, "day", period).aggregate(
        **{status.value: Sum(column) for status, column in reached.items()}
    )
    return [counts[status.value] or 0 for status in PIPELINE]


def _funnel(values: list[int]) -> Chart:
    cohort = values[0]
    return Chart(
        labels=[status.label for status in PIPELINE],
        series=[
            Series("prospects", "Prospects", values),
            Series(
                "share",
                "% of added",
                [round(100 * v / cohort, 1) if cohort else None for v in values],
                format="percent",
                plot=False,
            ),
            Series(
                "step",
                "% of previous step",
                [None]
                + [round(100 * v / prev, 1) if prev else None for prev, v in pairwise(values)],
                format="percent",
                plot=False,
            ),
        ],
    )


# Beyond this many people, the rest of the team is one "everyone else" series.
ACTIVITY_MEMBERS_SHOWN = 8


def outreach_activity_per_member(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Per week, each member's outreach activities: the weeks the period holds
    whole from config.tallies.ACTIVITY_WEEKS, the days of the others from
    config.tallies.ACTIVITY_DAYS."""
    member = F("user__username")
    days = _days(ActivityDay, campaigns, "day", period)
    sunday = timedelta(days=6)
    whole = [w for w in period.weeks() if period.start <= w and w + sunday <= period.end]
    if whole:
        days = days.exclude(day__range=(whole[0], whole[-1] + sunday))
    rows = days.values(week=_week("day"), member=member).annotate(n=Sum("activities"))
    if whole:
        weeks = (
            _within(ActivityWeek.objects, campaigns, "campaign")
            .filter(week__range=(whole[0], whole[-1]))
            .order_by()
            .values("week", member=member)
            .annotate(n=Sum("activities"))
        )
        rows = rows.union(weeks, all=True)
    per_member: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:  # grouped rows: at most weeks x people
        # Deltas that cancel out (activities moved away with their prospect)
        # add up to zero until compaction folds them: no one to show.
        if row["n"]:
            per_member[row["member"] or "(deleted user)"][row["week"]] += row["n"]
    ranked = sorted(per_member, key=lambda m: (-sum(per_member[m].values()), m))
    shown, rest = ranked[:ACTIVITY_MEMBERS_SHOWN], ranked[ACTIVITY_MEMBERS_SHOWN:]
    weeks = period.weeks()
    series = [
        Series(f"member-{n}", member, [per_member[member].get(w, 0) for w in weeks])
        for n, member in enumerate(shown)
    ]
    if rest:
        series.append(
            Series(
                "others",
                f"Everyone else ({len(rest)})",
                [sum(per_member[m].get(w, 0) for m in rest) for w in weeks],
            )
        )
    return Chart(labels=[w.isoformat() for w in weeks], series=series)


def prospects_by_kind(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Which kind of outreach yields links: of the prospects added in the period,
    how many of each kind, how many are won, and the win rate
    (config.tallies.PROSPECT_DAYS)."""
    rows = (
        _days(ProspectDay, campaigns, "day", period)
        .values("kind")
        .annotate(prospects=Sum("prospects"), won=Sum("won"))
    )
    by_kind = {row["kind"]: row for row in rows}
    prospects = [by_kind.get(kind, {}).get("prospects", 0) for kind in Kind]
    won = [by_kind.get(kind, {}).get("won", 0) for kind in Kind]
    return Chart(
        labels=[kind.label for kind in Kind],
        series=[
            Series("prospects", "Prospects", prospects),
            Series("won", "Won", won),
            Series(
                "win_rate",
                "Win rate",
                [round(100 * w / p, 1) if p else None for p, w in zip(prospects, won, strict=True)],
                format="percent",
                plot=False,
            ),
        ],
    )


ANCHORS_SHOWN = 12
EXACT_MATCH_DEFINITION = (
    "An anchor is an exact match when its text, trimmed and ignoring case, equals "
    "the title of the link's target page or one of that page's comma-separated "
    "keywords (spaces around the commas ignored). Links without a target page or "
    "without anchor text never match."
)


def _exact_match_sql(vendor: str) -> str:
    """EXACT_MATCH_DEFINITION in SQL, over one (anchor, target page) group ``g``
    joined to its target page ``t``; ``g.anchor`` is already trimmed and lower
    case. Keywords are wrapped in commas (",kw one,kw two,") so that a keyword
    only matches whole, never as part of a longer one."""
    find = "STRPOS" if vendor == "postgresql" else "INSTR"
    # Runs of up to four spaces collapse to one, then spaces beside commas go.
    spaced = "REPLACE(REPLACE(TRIM(t.keywords), '  ', ' '), '  ', ' ')"
    keywords = f"',' || LOWER(REPLACE(REPLACE({spaced}, ', ', ','), ' ,', ',')) || ','"
    return (
        "g.anchor <> '' AND t.id IS NOT NULL AND (g.anchor = LOWER(TRIM(t.title))"
        # An anchor with a comma in it could otherwise match two keywords at once.
        f" OR ({find}(g.anchor, ',') = 0 AND {find}({keywords}, ',' || g.anchor || ',') > 0))"
    )


def anchor_text_mix(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """The anchor texts of the links won in the period that are not lost, most
    used first, with how many of each are exact-match anchors (see
    EXACT_MATCH_DEFINITION), plus the totals over every anchor (in ``extra``)."""
    # Links are first counted per (anchor, target page), from the per-day
    # counts (config.tallies.ANCHOR_DAYS), so the string work of the
    # exact-match test runs once per group rather than once per link.
    groups = (
        _days(AnchorDay, campaigns, "won_on", period)
        .values("anchor", page=F("target_page"))
        .annotate(n=Sum("links"))
        .filter(n__gt=0)
    )
    connection = connections[groups.db]
    sql, params = groups.query.sql_with_params()
    target_pages = connection.ops.quote_name(TargetPage._meta.db_table)
    exact = _exact_match_sql(connection.vendor)
    with connection.cursor() as cursor:
        # The totals ride along as window sums over every anchor, so the top
        # anchors and the overall share come from the same single query.
        cursor.execute(
            "SELECT anchor, links, exact, SUM(links) OVER (), SUM(exact) OVER () FROM ("  # noqa: S608 (no user input)
            f"SELECT g.anchor AS anchor, SUM(g.n) AS links,"
            f" SUM(CASE WHEN {exact} THEN g.n ELSE 0 END) AS exact"
            f" FROM ({sql}) g LEFT JOIN {target_pages} t ON t.id = g.page GROUP BY g.anchor"
            ") per_anchor ORDER BY links DESC, anchor LIMIT %s",
            [*params, ANCHORS_SHOWN],
        )
        rows = [(anchor, int(n), int(e), int(total), int(et)) for anchor, n, e, total, et in cursor]
    total = rows[0][3] if rows else 0
    exact_total = rows[0][4] if rows else 0
    share = round(100 * exact_total / total, 1) if total else None
    threshold = settings.ANCHOR_EXACT_MATCH_WARN_PERCENT
    labels = [anchor or "(no anchor text)" for anchor, *_ in rows]
    exact_counts = [row[2] for row in rows]
    other_counts = [row[1] - row[2] for row in rows]
    shown = sum(row[1] for row in rows)
    if total > shown:
        exact_rest = exact_total - sum(exact_counts)
        labels.append("All other anchors")
        exact_counts.append(exact_rest)
        other_counts.append(total - shown - exact_rest)
    return Chart(
        labels=labels,
        series=[
            Series("exact", "Exact match", exact_counts),
            Series("other", "Other", other_counts),
        ],
        extra={
            "total": total,
            "exact": exact_total,
            "share": share,
            "threshold": threshold,
            "warn": share is not None and share > threshold,
        },
    )


def referring_domains_over_time(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Cumulative distinct source domains (sites: registrable domains, so
    m.example.com is example.com) of the links won up to each week (a domain
    counts from its first won link on; lost links included, since the domain did
    link to the site)."""
    first_week = Value(period.first_week, output_field=DateField())
    if not campaigns.query.has_filters():
        # Every campaign: each site's first link anywhere, counted per day by
        # config.tallies.REFERRING_DOMAIN_DAYS.
        firsts = (
            ReferringDomainDay.objects.filter(won_on__lte=period.end)
            .order_by()
            .values(
                bucket=Case(When(won_on__lt=first_week, then=first_week), default=_week("won_on"))
            )
            .annotate(new=Sum("domains"))
        )
        totals = _running_total(firsts, "bucket", 'SUM("new")')
    else:
        # A domain's first link among these campaigns is one of the
        # campaigns' first links from it (Backlink.first_of_site), so only
        # those are read.
        first_links = (
            Backlink.objects.filter(
                campaign__in=campaigns, first_of_site=True, won_on__lte=period.end
            )
            .order_by()
            .values("source_domain")
            .annotate(bucket=Greatest(Cast(TruncWeek(Min("won_on")), DateField()), first_week))
        )
        totals = _running_total(first_links, "bucket", "COUNT(*)")
    return Chart(
        labels=[w.isoformat() for w in period.weeks()],
        series=[Series("domains", "Referring domains", _carried(period, totals))],
    )


def quality_over_time(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Per week, the average quality score (campaigns.quality) of the links won
    that week, and how many of them are scored. A week with no scored link has
    no average (a gap in the line), not a zero. From
    config.tallies.BACKLINK_DAYS: the scores' sum and count per day."""
    rows = (
        _days(BacklinkDay, campaigns, "won_on", period)
        .values(week=_week("won_on"))
        .annotate(total=Sum("quality_total"), links=Sum("scored"))
        .filter(links__gt=0)
    )
    by_week = {row["week"]: row for row in rows}
    weeks = period.weeks()
    averages: list[Number] = [
        round(by_week[w]["total"] / by_week[w]["links"], 1) if w in by_week else None for w in weeks
    ]
    return Chart(
        labels=[w.isoformat() for w in weeks],
        series=[
            Series("average", "Average quality", averages),
            Series("links", "Links scored", [by_week.get(w, {}).get("links", 0) for w in weeks],
                   plot=False),
        ],
    )  # fmt: skip


def new_referring_domains_per_week(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Per week, the sites (registrable domains) whose first won link in a
    campaign falls in that week: the "new referring domain" of the quality
    score. A site new to two campaigns counts once for each. Summed per day by
    config.tallies.BACKLINK_DAYS from Backlink.first_of_site."""
    rows = (
        _days(BacklinkDay, campaigns, "won_on", period)
        .values(week=_week("won_on"))
        .annotate(domains=Sum("first_links"))
    )
    by_week = {row["week"]: row["domains"] for row in rows}
    weeks = period.weeks()
    return Chart(
        labels=[w.isoformat() for w in weeks],
        series=[Series("domains", "New referring domains", [by_week.get(w, 0) for w in weeks])],
    )


# Where a link counts as boilerplate: anywhere but the body of the page
# (links.verification.placement); comments too, which the site's editors did
# not write.
BOILERPLATE_PLACEMENTS = (
    Placement.NAVIGATION,
    Placement.HEADER,
    Placement.FOOTER,
    Placement.SIDEBAR,
    Placement.COMMENTS,
)
LINK_TYPE_GROUPS = (
    (
        "Rel",
        (
            ("follow", "Follow"),
            ("nofollow", "Nofollow"),
            ("ugc", "UGC"),
            ("sponsored", "Sponsored"),
        ),
    ),
    ("Kind", (("text", "Text"), ("image", "Image"))),
    ("Placement", (("content", "Content"), ("boilerplate", "Boilerplate"))),
)
LINK_TYPES_DEFINITION = (
    "The links won in this period that their latest check found on the page, as that "
    "check saw them. Follow passes value; a link that passes none is sponsored when its "
    "rel says sponsored, else UGC when it says ugc, else nofollow (rel=nofollow or a "
    "page-level nofollow): each link counts once, by its most specific reason. Image "
    "means what a reader clicks is an image. Boilerplate is navigation, header, footer, "
    "sidebar and comments. A page with the link twice counts the anchor that passes "
    "value, in the content if one is."
)


def link_types(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """The won links seen on their page by their latest check, counted three ways:
    by rel (follow / nofollow / ugc / sponsored, each link once), by kind (text /
    image) and by placement (content / boilerplate). One query, over
    config.tallies.BACKLINK_DAYS, which applies LINK_TYPES_DEFINITION."""
    sums = {
        "total": "seen",
        "follow": "follow",
        "nofollow": "rel_nofollow",
        "ugc": "ugc",
        "sponsored": "sponsored",
        "text": "text",
        "image": "image",
        "content": "content",
        "boilerplate": "boilerplate",
    }
    counts = {
        key: value or 0
        for key, value in _days(BacklinkDay, campaigns, "won_on", period)
        .aggregate(**{key: Sum(column) for key, column in sums.items()})
        .items()
    }
    labels: list[str] = []
    links: list[Number] = []
    shares: list[Number] = []
    for _group, members in LINK_TYPE_GROUPS:
        known = sum(counts[key] for key, _label in members)
        for key, label in members:
            labels.append(label)
            links.append(counts[key])
            shares.append(round(100 * counts[key] / known, 1) if known else None)
    total = counts["total"]
    return Chart(
        labels=labels,
        series=[
            Series("links", "Links", links),
            Series("share", "% of its group", shares, format="percent", plot=False),
        ],
        extra={
            "total": total,
            # Checked before placement was recorded, or a page too deeply
            # nested to tell: in the rel group only.
            "placement_unknown": total - counts["content"] - counts["boilerplate"],
            "kind_unknown": total - counts["text"] - counts["image"],
        },
    )


_MONEY = DecimalField(max_digits=14, decimal_places=2)


def cost_per_link(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """Per month of the period: links won, what they cost, and the cost per link.

    A link's cost is the one recorded on the backlink; when none was recorded and
    it came from a guest-post prospect, the fee agreed with that site is what the
    link cost. Never both: whoever records a paid guest post usually copies the
    fee into the cost, and adding them would count it twice. Free links count in
    the divisor: they are what bring the average down. Summed per day by
    config.tallies.BACKLINK_DAYS (the fee is copied onto the backlink).
    """
    rows = (
        _days(BacklinkDay, campaigns, "won_on", period)
        .values(month=TruncMonth("won_on"))
        .annotate(links=Sum("links"), cost=Sum("cost"))
    )
    by_month = {row["month"]: row for row in rows}
    months = period.months()
    links = [by_month.get(m, {}).get("links", 0) for m in months]
    costs = [by_month.get(m, {}).get("cost") or Decimal(0) for m in months]
    total_links, total_cost = sum(links), sum(costs, Decimal(0))
    return Chart(
        labels=[m.strftime("%Y-%m") for m in months],
        series=[
            Series(
                "per_link",
                "Cost per link",
                [_per_link(c, n) for c, n in zip(costs, links, strict=True)],
                format="money",
            ),
            Series("links", "Links won", links, plot=False),
            Series("cost", "Cost", costs, format="money", plot=False),
        ],
        extra={
            "links": total_links,
            "cost": total_cost,
            "per_link": _per_link(total_cost, total_links),
        },
    )


def _per_link(cost: Decimal, links: int) -> Decimal | None:
    return (cost / links).quantize(Decimal("0.01")) if links else None


def goal_progress(campaigns: QuerySet[Campaign], period: Period) -> Chart:
    """For each campaign with a goal: the links won to date that are not lost,
    against the goal; the same count as the campaign page. A goal is about today,
    so the period does not change it."""
    # Summed per campaign from the per-day counts (config.tallies.BACKLINK_DAYS),
    # a few hundred rows a campaign: counting a million backlinks through the
    # (campaign, state) index took 90 ms over every campaign.
    won = (
        BacklinkDay.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(n=Sum(F("links") - F("lost")))
        .values("n")
    )
    rows = list(
        campaigns.filter(goal_links__isnull=False)
        .order_by("name")
        .annotate(won=Coalesce(Subquery(won, output_field=IntegerField()), Value(0)))
        .values("name", "goal_links", "goal_date", "won")
    )
    return Chart(
        labels=[row["name"] for row in rows],
        series=[
            Series("won", "Won (not lost)", [row["won"] for row in rows]),
            Series("goal", "Goal", [row["goal_links"] for row in rows]),
            Series(
                "percent",
                "% of goal",
                [round(100 * row["won"] / row["goal_links"], 1) for row in rows],
                format="percent",
                plot=False,
            ),
            Series(
                "goal_date",
                "Goal date",
                [row["goal_date"].isoformat() if row["goal_date"] else "" for row in rows],
                format="text",
                plot=False,
            ),
        ],
    )
