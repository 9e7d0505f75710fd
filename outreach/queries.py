"""Read side of the prospect pipeline: the one filter behind the prospects table,
its exports, and the member's day.

``filter_prospects(campaign, params)`` is the contract other features build on:
the table shows it, and CSV/XLSX exports of "the current filters" call it with the
same query string, so what a user exports is exactly what they were looking at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import (
    CharField,
    DateTimeField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.utils import timezone

from campaigns.filters import ListFilterForm
from campaigns.models import Campaign, User
from outreach.models import (
    CLOSED_STATUSES,
    Kind,
    OutreachActivity,
    Prospect,
    ProspectTally,
    Status,
    StatusChange,
    Tag,
)

PAGE_SIZE = 50


def prospect_count(campaign: Campaign) -> int:
    """How many prospects the campaign has, from the counts the database keeps
    (config.tallies.PROSPECTS): a few rows, where counting a big campaign's
    prospects reads its whole index (15 ms for 125,000 on the 10x benchmark)."""
    summed = ProspectTally.objects.filter(campaign=campaign).aggregate(n=Sum("prospects"))
    return summed["n"] or 0


OPEN = "open"
UNASSIGNED = "none"

# sort key -> ORDER BY. The trailing id makes the order total, so a row never
# shows up on two pages (or on none) when many rows share a value; it runs in
# the key's direction, so that one (key, id) index read forwards or backwards
# serves both directions and the API's keyset cursor (api.pagination) is a
# plain row comparison. Not yet scored or set (null) sorts last either way.
SORTS: dict[str, tuple[Any, ...]] = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "domain": ("domain", "id"),
    "-domain": ("-domain", "-id"),
    "-dr": (F("domain_rating").desc(nulls_last=True), "-id"),
    "dr": (F("domain_rating").asc(nulls_last=True), "id"),
    "-relevance": (F("relevance").desc(nulls_last=True), "-id"),
    "relevance": (F("relevance").asc(nulls_last=True), "id"),
    "follow_up": (F("next_follow_up").asc(nulls_last=True), "id"),
    "-follow_up": (F("next_follow_up").desc(nulls_last=True), "-id"),
    # The pipeline order (Prospect.status_rank), not the alphabet.
    "status": ("status_rank", "id"),
    "-status": ("-status_rank", "-id"),
    "-updated": ("-updated_at", "-id"),
    "-quality": (F("quality").desc(nulls_last=True), "-id"),
    "quality": (F("quality").asc(nulls_last=True), "id"),
}
DEFAULT_SORT = "-created"

FOLLOW_UP_CHOICES = [
    ("", "Any"),
    ("due", "Due (today or overdue)"),
    ("overdue", "Overdue"),
    ("today", "Today"),
    ("week", "In the next 7 days"),
    ("none", "No follow-up set"),
]


def assignable_users(campaign: Campaign) -> QuerySet[User]:
    """The people a prospect of this campaign can be given to: its members and owner."""
    return (
        User.objects.filter(Q(memberships__campaign=campaign) | Q(pk=campaign.owner_id))
        .distinct()
        .order_by("username")
    )


def assignee_choices(users: Iterable[User], *, me: User) -> list[tuple[str, str]]:
    people = [
        (str(u.pk), f"{u.get_username()} (me)" if u.pk == me.pk else u.get_username())
        for u in users
    ]
    return [("", "Anyone"), (UNASSIGNED, "Unassigned"), *people]


class ProspectFilterForm(ListFilterForm):
    """The prospect table's filters, read from a query string.

    It validates only: no field needs a query, so exports can build it for free.
    The assignee and tag are ids (or ``none`` for unassigned); an id from another
    campaign simply matches nothing.
    """

    q = forms.CharField(label="Search", required=False, max_length=200, strip=True)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any"), *Kind.choices])
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any"), (OPEN, "Open (not closed)"), *Status.choices],
    )
    assignee = forms.RegexField(label="Assignee", required=False, regex=r"^(none|\d{1,18})$")
    dr_min = forms.IntegerField(label="DR from", required=False, min_value=0, max_value=100)
    dr_max = forms.IntegerField(label="DR to", required=False, min_value=0, max_value=100)
    min_quality = forms.IntegerField(
        label="Min quality", required=False, min_value=0, max_value=100
    )
    follow_up = forms.ChoiceField(label="Follow-up", required=False, choices=FOLLOW_UP_CHOICES)
    tag = forms.IntegerField(label="Tag", required=False, min_value=1)
    sort = forms.ChoiceField(label="Sort", required=False, choices=[(key, key) for key in SORTS])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("dr_min"), data.get("dr_max")
        if low is not None and high is not None and low > high:
            self.add_error("dr_max", "Must not be below “DR from”.")
        return data

    def offer_choices(self, *, users: Iterable[User], tags: Iterable[Tag], me: User) -> None:
        """Show the assignee and tag as drop-downs of this campaign's people and tags."""
        self.fields["assignee"].widget = forms.Select(choices=assignee_choices(users, me=me))
        self.fields["tag"].widget = forms.Select(
            choices=[("", "Any"), *((tag.pk, tag.name) for tag in tags)]
        )


def apply_filters(queryset: QuerySet[Prospect], values: Mapping[str, Any]) -> QuerySet[Prospect]:
    if values.get("q"):
        # One column holding URL (and so the domain), contact name and email, and
        # notes; on PostgreSQL its trigram index serves this LIKE '%text%'.
        queryset = queryset.filter(search_text__icontains=values["q"])
    if values.get("kind"):
        queryset = queryset.filter(kind=values["kind"])
    status = values.get("status")
    if status == OPEN:
        queryset = queryset.exclude(status__in=CLOSED_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    assignee = values.get("assignee")
    if assignee == UNASSIGNED:
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee:
        queryset = queryset.filter(assignee_id=int(assignee))
    if values.get("dr_min") is not None:
        queryset = queryset.filter(domain_rating__gte=values["dr_min"])
    if values.get("dr_max") is not None:
        queryset = queryset.filter(domain_rating__lte=values["dr_max"])
    if values.get("min_quality") is not None:
        # Unscored prospects (quality null) drop out, like an unknown DR above.
        queryset = queryset.filter(quality__gte=values["min_quality"])
    follow_up = values.get("follow_up")
    if follow_up:
        today = timezone.localdate()
        if follow_up == "none":
            queryset = queryset.open().filter(next_follow_up__isnull=True)
        else:
            queryset = queryset.open()
            queryset = {
                "due": queryset.filter(next_follow_up__lte=today),
                "overdue": queryset.filter(next_follow_up__lt=today),
                "today": queryset.filter(next_follow_up=today),
                "week": queryset.filter(
                    next_follow_up__gte=today, next_follow_up__lte=today + timedelta(days=7)
                ),
            }[follow_up]
    if values.get("tag"):
        # The through table is unique per (prospect, tag), so this join cannot
        # duplicate rows.
        queryset = queryset.filter(tags=values["tag"])
    return queryset.order_by(*SORTS[values.get("sort") or DEFAULT_SORT])


def filter_prospects(campaign: Campaign, params: Mapping[str, Any]) -> QuerySet[Prospect]:
    """The campaign's prospects matching ``params`` (a query string such as
    ``request.GET``), in the requested order.

    Recognised keys: ``q`` (search in URL/domain, contact name and email, notes),
    ``kind``, ``status`` (a status or ``open``), ``assignee`` (a user id or
    ``none``), ``dr_min``, ``dr_max``, ``min_quality``, ``follow_up`` (``due``, ``overdue``,
    ``today``, ``week``, ``none``), ``tag`` (a tag id), ``sort`` (a key of
    ``SORTS``, ``-created`` by default). Unknown keys (``page``) are ignored; an
    invalid value drops that one filter.
    """
    values = ProspectFilterForm(params).valid_values()
    return apply_filters(Prospect.objects.filter(campaign=campaign), values)


def for_table(queryset: QuerySet[Prospect]) -> QuerySet[Prospect]:
    """What one table row shows, loaded for a whole page in a fixed number of
    queries: the assignee, the tags, and who made the last status change when."""
    last_change = StatusChange.objects.filter(prospect=OuterRef("pk")).order_by(
        "-changed_at", "-id"
    )
    return (
        queryset.select_related("assignee")
        .prefetch_related("tags")
        .annotate(
            last_changed_at=Subquery(
                last_change.values("changed_at")[:1], output_field=DateTimeField()
            ),
            last_changed_by=Subquery(
                last_change.values("changed_by__username")[:1], output_field=CharField()
            ),
        )
    )


def timeline(prospect: Prospect) -> QuerySet:
    """Activities and status changes of one prospect in one time-ordered list.

    A UNION in the database, so the page can paginate the merged history with a
    COUNT and a LIMIT instead of loading both histories into Python.
    """
    text = CharField()
    activities = (
        OutreachActivity.objects.filter(prospect=prospect)
        .order_by()
        .values(
            # Every column is a named expression so that both sides line up by position.
            at=F("occurred_at"),
            entry=Value("activity", output_field=text),
            kind_=F("kind"),
            summary_=F("summary"),
            from_=Value("", output_field=text),
            to_=Value("", output_field=text),
            username=F("user__username"),
            row_id=F("id"),
        )
    )
    changes = (
        StatusChange.objects.filter(prospect=prospect)
        .order_by()
        .values(
            at=F("changed_at"),
            entry=Value("status", output_field=text),
            kind_=Value("", output_field=text),
            summary_=Value("", output_field=text),
            from_=F("from_status"),
            to_=F("to_status"),
            username=F("changed_by__username"),
            row_id=F("id"),
        )
    )
    return activities.union(changes, all=True).order_by("-at", "-row_id")


def my_follow_ups(user: User, campaigns: QuerySet[Campaign]) -> QuerySet[Prospect]:
    """Open prospects assigned to ``user`` whose follow-up is today or overdue."""
    return (
        Prospect.objects.filter(assignee=user, campaign__in=campaigns)
        .follow_up_due()
        .select_related("campaign")
        .order_by("next_follow_up", "id")
    )


def haro_deadlines(campaigns: QuerySet[Campaign], *, hours: int = 48) -> QuerySet[Prospect]:
    """Open HARO queries on these campaigns whose deadline falls in the next ``hours``."""
    now = timezone.now()
    return (
        Prospect.objects.open()
        .filter(
            campaign__in=campaigns,
            kind=Kind.HARO,
            deadline__gte=now,
            deadline__lte=now + timedelta(hours=hours),
        )
        .select_related("campaign", "assignee")
        .order_by("deadline", "id")
    )
