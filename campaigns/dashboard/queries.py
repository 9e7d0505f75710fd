"""Read-side aggregates across apps. Only the dashboard reads outreach and links
from the campaigns side; nothing imports this package but the URLconf."""

from __future__ import annotations

from django.db import models
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from campaigns.models import Campaign
from links.models import BacklinkState, BacklinkStateTally, BacklinkTally
from outreach.models import Prospect, ProspectStatusTally, ProspectTally, Status


def _tallied(tally: type[models.Model], column: str) -> Coalesce:
    """A campaign's count from its tally rows (config.tallies): a handful of
    rows per campaign, whatever its number of prospects or links."""
    summed = (
        tally.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(n=Sum(column))
        .values("n")
    )
    return Coalesce(Subquery(summed, output_field=IntegerField()), Value(0))


def campaigns_with_counts(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """One query for the campaign list, whatever the number of prospects or
    links: the counts are kept by the database as rows change."""
    return campaigns.select_related("owner").annotate(
        prospect_count=_tallied(ProspectTally, "prospects"),
        open_prospect_count=_tallied(ProspectTally, "open_prospects"),
        backlink_count=_tallied(BacklinkTally, "backlinks"),
        live_count=_tallied(BacklinkTally, "live_backlinks"),
    )


def _counts_by_key(
    tally: type[models.Model], campaign: Campaign, key: str, column: str
) -> dict[str, int]:
    """{key value: count} from a keyed tally's rows (config.tallies): a few rows
    per campaign and value, whatever the number of rows counted."""
    return dict(
        tally.objects.filter(campaign=campaign)
        .order_by()
        .values_list(key)
        .annotate(n=Sum(column))
        .values_list(key, "n")
    )


def prospect_counts_by_status(campaign: Campaign) -> list[tuple[str, str, int]]:
    """(status, label, count) for every pipeline status, zeros included, in one query."""
    counts = _counts_by_key(ProspectStatusTally, campaign, "status", "prospects")
    return [(value, label, counts.get(value, 0)) for value, label in Status.choices]


def backlink_counts_by_state(campaign: Campaign) -> list[tuple[str, str, int]]:
    counts = _counts_by_key(BacklinkStateTally, campaign, "state", "backlinks")
    return [(value, label, counts.get(value, 0)) for value, label in BacklinkState.choices]


def prospect_counts_by_kind(campaign: Campaign) -> dict[str, int]:
    return dict(
        Prospect.objects.filter(campaign=campaign)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("*"))
    )


def goal_progress(
    campaign: Campaign, backlink_states: list[tuple[str, str, int]]
) -> dict[str, int | None]:
    """The links won that are not lost against the goal, from
    backlink_counts_by_state's rows (no second count of the same links)."""
    won = sum(n for state, _label, n in backlink_states if state != BacklinkState.LOST)
    goal = campaign.goal_links
    percent = min(100, round(100 * won / goal)) if goal else None
    return {"won": won, "goal": goal, "percent": percent}
