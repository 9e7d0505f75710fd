"""CSV exports of a campaign's prospects and backlinks, with the list filters.

The rows are exactly those of the prospects or backlinks table for the same
query string: the export calls the lists' own filter functions
(``outreach.queries.filter_prospects``, ``links.queries.filter_backlinks``), so
the two can never disagree, and a filter value the list ignores is ignored here
too.

Rows stream from a database cursor in chunks, so an export of any size holds
one chunk in memory, and every cell goes through neutralize_cell.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from campaigns.spreadsheets import neutralize_cell
from links.models import Backlink
from outreach.models import Prospect

CHUNK_SIZE = 1000


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
    yield "\ufeff" + writer.writerow([cell(value) for value in header])
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
    ("placement", lambda b: b.placement),
    ("link_kind", lambda b: b.link_kind),
    ("link_rel", lambda b: b.link_rel),
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
