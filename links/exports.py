"""Backlinks out to CSV and XLSX, through the spreadsheet writers of
outreach/exports.py (formula neutralizing, bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from links.models import Backlink
from outreach.exports import CHUNK_SIZE, Column, table_rows

BACKLINK_COLUMNS: tuple[Column, ...] = (
    Column("Source URL", lambda b: b.source_url),
    Column("Source domain", lambda b: b.source_domain),
    Column("Target URL", lambda b: b.target_url),
    Column("Target page", lambda b: b.target_page.url if b.target_page else ""),
    Column("Expected anchor", lambda b: b.expected_anchor_text),
    Column("Expected dofollow", lambda b: b.expected_dofollow),
    Column("State", lambda b: b.get_state_display()),
    Column("Last verdict", lambda b: b.get_last_verdict_display() if b.last_verdict else ""),
    Column("Placement", lambda b: b.get_placement_display() if b.placement else ""),
    Column("Link kind", lambda b: b.get_link_kind_display() if b.link_kind else ""),
    Column("Rel", lambda b: b.link_rel),
    Column("Won on", lambda b: b.won_on),
    Column("Won by", lambda b: b.won_by.get_username() if b.won_by else ""),
    Column("Cost", lambda b: b.cost),
    Column("First seen", lambda b: b.first_seen_at),
    Column("Last checked", lambda b: b.last_checked_at),
    Column("Next check", lambda b: b.next_check_at),
    Column("Lost at", lambda b: b.lost_at),
)


def backlink_rows(queryset: QuerySet[Backlink]) -> Iterator[list[Any]]:
    """The header, then one list of typed values per backlink."""
    queryset = queryset.select_related("target_page", "won_by").order_by("-won_on", "-id")
    return table_rows(BACKLINK_COLUMNS, queryset.iterator(chunk_size=CHUNK_SIZE))
