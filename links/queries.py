"""Read side of the backlinks pages: the filter behind the backlinks table (and any
export of it), and the alerts a user can see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet, Sum

from campaigns.access import campaigns_for
from campaigns.filters import ListFilterForm
from campaigns.models import Campaign, User
from links.models import Alert, Backlink, BacklinkState, BacklinkTally, Placement

PAGE_SIZE = 50
MISSING = "missing"

STATE_CHOICES = [
    ("", "Any"),
    (BacklinkState.LIVE, "Live"),
    (BacklinkState.NOFOLLOW, "Nofollow"),
    (MISSING, "Missing (confirming or lost)"),
    (BacklinkState.UNCONFIRMED, "Missing, confirming"),
    (BacklinkState.LOST, "Lost"),
    (BacklinkState.ERROR, "Error"),
    (BacklinkState.UNREACHABLE, "Unreachable"),
    (BacklinkState.PENDING, "Not checked yet"),
]
FLAG_CHOICES = [
    ("", "Any"),
    ("noindex", "Page is noindex"),
    ("canonical", "Canonical points elsewhere"),
    ("robots", "Blocked by robots.txt"),
]
BOILERPLATE = "boilerplate"
PLACEMENT_CHOICES = [
    ("", "Any"),
    (Placement.CONTENT, "In the content"),
    (BOILERPLATE, "Outside the content (any)"),
    *[(value, label) for value, label in Placement.choices if value != Placement.CONTENT],
]
# The trailing id makes the order total and runs in the key's direction, so one
# (key, id) index serves both directions and the API's keyset cursor
# (api.pagination).
SORTS: dict[str, tuple[Any, ...]] = {
    "-won": ("-won_on", "-id"),
    "won": ("won_on", "id"),
    "-checked": (F("last_checked_at").desc(nulls_last=True), "-id"),
    "domain": ("source_domain", "id"),
    # Unscored links last either way: "not scored" is neither good nor bad.
    "-quality": (F("quality").desc(nulls_last=True), "-id"),
    "quality": (F("quality").asc(nulls_last=True), "id"),
}
DEFAULT_SORT = "-won"


class BacklinkFilterForm(ListFilterForm):
    q = forms.CharField(label="Search", required=False, max_length=200, strip=True)
    state = forms.ChoiceField(label="Verdict", required=False, choices=STATE_CHOICES)
    flag = forms.ChoiceField(label="Flag", required=False, choices=FLAG_CHOICES)
    placement = forms.ChoiceField(label="Placement", required=False, choices=PLACEMENT_CHOICES)
    min_quality = forms.IntegerField(
        label="Min quality", required=False, min_value=0, max_value=100
    )
    sort = forms.ChoiceField(
        label="Sort",
        required=False,
        choices=[
            ("-won", "Newest won first"),
            ("won", "Oldest won first"),
            ("-checked", "Recently checked first"),
            ("domain", "Source domain A to Z"),
            ("-quality", "Best quality first"),
            ("quality", "Lowest quality first"),
        ],
    )


def filter_backlinks(campaign: Campaign, params: Mapping[str, Any]) -> QuerySet[Backlink]:
    """The campaign's backlinks matching ``params`` (a query string such as
    ``request.GET``): ``q`` (source URL or anchor text), ``state`` (a BacklinkState,
    or ``missing`` for unconfirmed + lost), ``flag`` (``noindex``, ``canonical``,
    ``robots``), ``min_quality`` (0-100; unscored links drop out), ``sort``
    (``-won`` by default, ``won``, ``-checked``, ``domain``, ``-quality``,
    ``quality``)."""
    values = BacklinkFilterForm(params).valid_values()
    return apply_filters(Backlink.objects.filter(campaign=campaign), values)


def backlink_count(campaign: Campaign) -> int:
    """How many backlinks the campaign has, from the counts the database keeps
    (config.tallies.BACKLINKS): a few rows, where counting a big campaign's
    links reads its whole index (29 ms for 250,000 links whose checks keep
    the table's visibility map stale)."""
    summed = BacklinkTally.objects.filter(campaign=campaign).aggregate(n=Sum("backlinks"))
    return summed["n"] or 0


def apply_filters(backlinks: QuerySet[Backlink], values: Mapping[str, Any]) -> QuerySet[Backlink]:
    """``filter_backlinks`` on any set of backlinks (the API's, over every
    campaign a caller sees), from a BacklinkFilterForm's valid values."""
    if values.get("q"):
        text = values["q"]
        backlinks = backlinks.filter(
            Q(source_url__icontains=text) | Q(expected_anchor_text__icontains=text)
        )
    state = values.get("state")
    if state == MISSING:
        backlinks = backlinks.filter(state__in=[BacklinkState.UNCONFIRMED, BacklinkState.LOST])
    elif state:
        backlinks = backlinks.filter(state=state)
    flag = values.get("flag")
    if flag == "noindex":
        backlinks = backlinks.filter(noindex=True)
    elif flag == "canonical":
        backlinks = backlinks.exclude(canonical_url="")
    elif flag == "robots":
        backlinks = backlinks.filter(robots_txt_blocked=True)
    placement = values.get("placement")
    if placement == BOILERPLATE:
        # Known to sit outside the content; blank (never found, or a page too
        # deep to tell) is neither.
        backlinks = backlinks.exclude(placement__in=[Placement.CONTENT, ""])
    elif placement:
        backlinks = backlinks.filter(placement=placement)
    if values.get("min_quality") is not None:
        backlinks = backlinks.filter(quality__gte=values["min_quality"])
    return backlinks.order_by(*SORTS[values.get("sort") or DEFAULT_SORT])


def alerts_for(user: User, *, unread_only: bool) -> QuerySet[Alert]:
    """Alerts on the campaigns ``user`` can see, newest first, with what a row shows."""
    alerts = Alert.objects.filter(campaign__in=campaigns_for(user))
    if unread_only:
        alerts = alerts.filter(read_at__isnull=True)
    return alerts.select_related("campaign", "backlink", "read_by").order_by("-created_at", "-id")
