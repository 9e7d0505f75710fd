"""CSV exports of a campaign's prospects and backlinks, with the list filters.

The filters take the same GET parameters as the prospect and backlink lists
(kind, status, assignee, q, dr_min, dr_max, tag, follow_up=due; state, flag, q),
so an export link can carry the list's query string unchanged. They live here
until the lists' own filter functions are merged; then the exports should call
those instead, so the two never disagree.

Rows stream from a database cursor in chunks, so an export of any size holds
one chunk in memory, and every cell goes through neutralize_cell.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.spreadsheets import neutralize_cell
from links.models import Backlink, BacklinkState
from outreach.models import Kind, Prospect, Status

if TYPE_CHECKING:
    from campaigns.models import User

CHUNK_SIZE = 1000


class InvalidFilters(ValueError):
    """The query string has values the filters cannot use; ``errors`` says which."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _any(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "Any"), *choices]


class ProspectFilters(forms.Form):
    kind = forms.ChoiceField(choices=_any(Kind.choices), required=False)
    status = forms.ChoiceField(choices=_any(Status.choices), required=False)
    # A user id, "me", or "none" for unassigned prospects.
    assignee = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=200)
    dr_min = forms.IntegerField(required=False, min_value=0, max_value=100)
    dr_max = forms.IntegerField(required=False, min_value=0, max_value=100)
    tag = forms.CharField(required=False, max_length=60)
    follow_up = forms.ChoiceField(choices=_any([("due", "Due")]), required=False)

    def clean_assignee(self) -> str:
        value = self.cleaned_data["assignee"].strip()
        if value and value not in {"me", "none"} and not value.isdigit():
            raise forms.ValidationError("Use a user id, 'me' or 'none'.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        low, high = cleaned.get("dr_min"), cleaned.get("dr_max")
        if low is not None and high is not None and low > high:
            self.add_error("dr_max", "The highest domain rating is below the lowest.")
        return cleaned


BACKLINK_FLAGS = {
    "noindex": Q(noindex=True),
    "canonical": ~Q(canonical_url=""),
    "robots_txt_blocked": Q(robots_txt_blocked=True),
    "nofollow": Q(expected_dofollow=False) | Q(state=BacklinkState.NOFOLLOW),
}


class BacklinkFilters(forms.Form):
    state = forms.ChoiceField(choices=_any(BacklinkState.choices), required=False)
    flag = forms.ChoiceField(choices=_any([(f, f) for f in BACKLINK_FLAGS]), required=False)
    q = forms.CharField(required=False, max_length=200)


def _cleaned(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        raise InvalidFilters({name: list(errors) for name, errors in form.errors.items()})
    return form.cleaned_data


def filter_prospects(
    campaign: Campaign, params: Any, *, user: User | None = None
) -> QuerySet[Prospect]:
    """The campaign's prospects matching the list's GET parameters; raises
    InvalidFilters on values it cannot use."""
    f = _cleaned(ProspectFilters(params))
    prospects = Prospect.objects.filter(campaign=campaign)
    if f["kind"]:
        prospects = prospects.filter(kind=f["kind"])
    if f["status"]:
        prospects = prospects.filter(status=f["status"])
    if f["assignee"] == "none":
        prospects = prospects.filter(assignee__isnull=True)
    elif f["assignee"] == "me":
        prospects = prospects.filter(assignee=user) if user else prospects.none()
    elif f["assignee"]:
        prospects = prospects.filter(assignee_id=int(f["assignee"]))
    if f["q"]:
        q = f["q"].strip()
        prospects = prospects.filter(
            Q(url__icontains=q)
            | Q(domain__icontains=q)
            | Q(contact_name__icontains=q)
            | Q(contact_email__icontains=q)
        )
    if f["dr_min"] is not None:
        prospects = prospects.filter(domain_rating__gte=f["dr_min"])
    if f["dr_max"] is not None:
        prospects = prospects.filter(domain_rating__lte=f["dr_max"])
    if f["tag"]:
        prospects = prospects.filter(tags__name__iexact=f["tag"].strip())
    if f["follow_up"] == "due":
        prospects = prospects.follow_up_due()
    return prospects.order_by("-created_at", "-pk")


def filter_backlinks(campaign: Campaign, params: Any) -> QuerySet[Backlink]:
    f = _cleaned(BacklinkFilters(params))
    backlinks = Backlink.objects.filter(campaign=campaign)
    if f["state"]:
        backlinks = backlinks.filter(state=f["state"])
    if f["flag"]:
        backlinks = backlinks.filter(BACKLINK_FLAGS[f["flag"]])
    if f["q"]:
        q = f["q"].strip()
        backlinks = backlinks.filter(
            Q(source_url__icontains=q)
            | Q(target_url__icontains=q)
            | Q(expected_anchor_text__icontains=q)
        )
    return backlinks.order_by("-won_on", "-pk")


# --- CSV ----------------------------------------------------------------------


def cell(value: object) -> str:
    """One CSV cell: plain text a spreadsheet shows as is, never runs."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime):
        text = timezone.localtime(value).isoformat(timespec="seconds")
    else:
        text = str(value)
    return neutralize_cell(text)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark, or Excel reads UTF-8 as Windows-1252.
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


Column = tuple[str, Callable[[Any], object]]

PROSPECT_COLUMNS: list[Column] = [
    ("id", lambda p: p.pk),
    ("kind", lambda p: p.kind),
    ("url", lambda p: p.url),
    ("domain", lambda p: p.domain),
    ("contact_name", lambda p: p.contact_name),
    ("contact_email", lambda p: p.contact_email),
    ("domain_rating", lambda p: p.domain_rating),
    ("niche", lambda p: p.niche),
    ("tags", lambda p: ", ".join(sorted(t.name for t in p.tags.all()))),
    ("assignee", lambda p: p.assignee.get_username() if p.assignee else ""),
    ("status", lambda p: p.status),
    ("next_follow_up", lambda p: p.next_follow_up),
    ("notes", lambda p: p.notes),
    ("outlet", lambda p: p.outlet),
    ("query_text", lambda p: p.query_text),
    ("deadline", lambda p: p.deadline),
    ("dead_url", lambda p: p.dead_url),
    ("offered_target", lambda p: p.offered_target.url if p.offered_target else ""),
    ("fee", lambda p: p.fee),
    ("created_at", lambda p: p.created_at),
    ("updated_at", lambda p: p.updated_at),
]

BACKLINK_COLUMNS: list[Column] = [
    ("id", lambda b: b.pk),
    ("source_url", lambda b: b.source_url),
    ("source_domain", lambda b: b.source_domain),
    ("target_url", lambda b: b.target_url),
    ("target_page", lambda b: b.target_page.url if b.target_page else ""),
    ("expected_anchor_text", lambda b: b.expected_anchor_text),
    ("expected_dofollow", lambda b: b.expected_dofollow),
    ("state", lambda b: b.state),
    ("last_verdict", lambda b: b.last_verdict),
    ("noindex", lambda b: b.noindex),
    ("canonical_url", lambda b: b.canonical_url),
    ("robots_txt_blocked", lambda b: b.robots_txt_blocked),
    ("won_by", lambda b: b.won_by.get_username() if b.won_by else ""),
    ("won_on", lambda b: b.won_on),
    ("cost", lambda b: b.cost),
    ("prospect_url", lambda b: b.prospect.url if b.prospect else ""),
    ("first_seen_at", lambda b: b.first_seen_at),
    ("last_checked_at", lambda b: b.last_checked_at),
    ("lost_at", lambda b: b.lost_at),
]


def prospect_rows(prospects: QuerySet[Prospect]) -> Iterator[list[object]]:
    # The iterator prefetches tags one chunk at a time: one query per chunk.
    chunked = (
        prospects.select_related("assignee", "offered_target")
        .prefetch_related("tags")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for prospect in chunked:
        yield [get(prospect) for _, get in PROSPECT_COLUMNS]


def backlink_rows(backlinks: QuerySet[Backlink]) -> Iterator[list[object]]:
    chunked = backlinks.select_related("target_page", "won_by", "prospect").iterator(
        chunk_size=CHUNK_SIZE
    )
    for backlink in chunked:
        yield [get(backlink) for _, get in BACKLINK_COLUMNS]
