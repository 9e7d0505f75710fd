"""Prospects out to CSV and XLSX: one column table for both formats, written by
the spreadsheet writers of ``campaigns.spreadsheets`` (neutralized cells,
bounded memory). The rows and their order are those of the prospect list for
the same query string (``outreach.queries.filter_prospects``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from campaigns import spreadsheets
from campaigns.spreadsheets import Column, table_rows
from outreach.models import Prospect, Tag

PROSPECT_COLUMNS: tuple[Column, ...] = (
    Column("id", lambda p: p.pk),
    Column("kind", lambda p: p.kind),
    Column("url", lambda p: p.url),
    Column("domain", lambda p: p.domain),
    Column("contact_name", lambda p: p.contact_name),
    Column("contact_email", lambda p: p.contact_email),
    Column("domain_rating", lambda p: p.domain_rating),
    Column("niche", lambda p: p.niche),
    Column("tags", lambda p: ", ".join(tag.name for tag in p.tags.all())),
    Column("assignee", lambda p: p.assignee.get_username() if p.assignee else ""),
    Column("status", lambda p: p.status),
    Column("next_follow_up", lambda p: p.next_follow_up),
    Column("notes", lambda p: p.notes),
    Column("outlet", lambda p: p.outlet),
    Column("query_text", lambda p: p.query_text),
    Column("deadline", lambda p: p.deadline),
    Column("dead_url", lambda p: p.dead_url),
    Column("offered_target", lambda p: p.offered_target.url if p.offered_target else ""),
    Column("fee", lambda p: p.fee),
    Column("created_at", lambda p: p.created_at),
    Column("updated_at", lambda p: p.updated_at),
)


def prospect_rows(queryset: QuerySet[Prospect]) -> Iterator[list[Any]]:
    """The header, then one list of typed values per prospect, in the
    queryset's order."""
    # The iterator prefetches tags one chunk at a time: one query per chunk.
    queryset = queryset.select_related("assignee", "offered_target").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )
    return table_rows(PROSPECT_COLUMNS, queryset.iterator(chunk_size=spreadsheets.CHUNK_SIZE))
