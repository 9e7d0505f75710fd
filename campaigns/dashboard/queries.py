"""Read-side aggregates across apps. Only the dashboard reads outreach and links
from the campaigns side; nothing imports this package but the URLconf."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from campaigns.models import Campaign
from links.models import Backlink, BacklinkState
from outreach.models import Prospect, Status


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT subquery. Joining prospects and backlinks in one GROUP BY
    would multiply the rows (prospects times links per campaign); subqueries don't."""
    counted = (
        queryset.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        # COUNT(*), not COUNT(id): the (campaign, status/state) indexes answer it
        # without reading the table.
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def campaigns_with_counts(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """One query for the campaign list, whatever the number of prospects or links."""
    return campaigns.select_related("owner").annotate(
        prospect_count=_count_of(Prospect.objects.all()),
        open_prospect_count=_count_of(Prospect.objects.open()),
        backlink_count=_count_of(Backlink.objects.all()),
        live_count=_count_of(Backlink.objects.filter(state=BacklinkState.LIVE)),
    )


def prospect_counts_by_status(campaign: Campaign) -> list[tuple[str, str, int]]:
    """(status, label, count) for every pipeline status, zeros included, in one query."""
    counts = dict(
        Prospect.objects.filter(campaign=campaign)
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"))  # not COUNT(id): see _count_of
    )
    return [(value, label, counts.get(value, 0)) for value, label in Status.choices]


def backlink_counts_by_state(campaign: Campaign) -> list[tuple[str, str, int]]:
    counts = dict(
        Backlink.objects.filter(campaign=campaign)
        .order_by()
        .values_list("state")
        .annotate(n=Count("*"))
    )
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
