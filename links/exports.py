"""Backlinks out to CSV and XLSX: one column table for both formats, written by
the spreadsheet writers of ``campaigns.spreadsheets`` (neutralized cells,
bounded memory). The rows and their order are those of the backlink list for
the same query string (``links.queries.filter_backlinks``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from campaigns import spreadsheets
from campaigns.spreadsheets import Column, table_rows
from links.models import Backlink

BACKLINK_COLUMNS: tuple[Column, ...] = (
    Column("id", lambda b: b.pk),
    Column("source_url", lambda b: b.source_url),
    Column("source_domain", lambda b: b.source_domain),
    Column("target_url", lambda b: b.target_url),
    Column("target_page", lambda b: b.target_page.url if b.target_page else ""),
    Column("expected_anchor_text", lambda b: b.expected_anchor_text),
    Column("expected_dofollow", lambda b: b.expected_dofollow),
    Column("state", lambda b: b.state),
    Column("last_verdict", lambda b: b.last_verdict),
    Column("noindex", lambda b: b.noindex),
    Column("canonical_url", lambda b: b.canonical_url),
    Column("robots_txt_blocked", lambda b: b.robots_txt_blocked),
    Column("placement", lambda b: b.placement),
    Column("link_kind", lambda b: b.link_kind),
    Column("link_rel", lambda b: b.link_rel),
    Column("won_by", lambda b: b.won_by.get_username() if b.won_by else ""),
    Column("won_on", lambda b: b.won_on),
    Column("cost", lambda b: b.cost),
    Column("prospect_url", lambda b: b.prospect.url if b.prospect else ""),
    Column("first_seen_at", lambda b: b.first_seen_at),
    Column("last_checked_at", lambda b: b.last_checked_at),
    Column("next_check_at", lambda b: b.next_check_at),
    Column("lost_at", lambda b: b.lost_at),
)


def backlink_rows(queryset: QuerySet[Backlink]) -> Iterator[list[Any]]:
    """The header, then one list of typed values per backlink, in the
    queryset's order."""
    queryset = queryset.select_related("target_page", "won_by", "prospect")
    return table_rows(BACKLINK_COLUMNS, queryset.iterator(chunk_size=spreadsheets.CHUNK_SIZE))
