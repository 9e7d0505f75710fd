"""Backlinks out to CSV and XLSX: one column table for both formats, written by
the spreadsheet writers of ``campaigns.spreadsheets`` (neutralized cells,
bounded memory). The rows and their order are those of the backlink list for
the same query string (``links.queries.filter_backlinks``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from campaigns import spreadsheets
from campaigns.models import User
from campaigns.spreadsheets import BOOLEAN, DATE, DATETIME, NUMBER, Column, table_rows
from links.models import Backlink

BACKLINK_COLUMNS: tuple[Column, ...] = (
    Column("id", lambda b: b.pk, "id", NUMBER),
    Column("source_url", lambda b: b.source_url, "source_url"),
    Column("source_domain", lambda b: b.source_domain, "source_domain"),
    Column("target_url", lambda b: b.target_url, "target_url"),
    Column("target_page", lambda b: b.target_page.url if b.target_page else "", "target_page__url"),
    Column("expected_anchor_text", lambda b: b.expected_anchor_text, "expected_anchor_text"),
    Column("expected_dofollow", lambda b: b.expected_dofollow, "expected_dofollow", BOOLEAN),
    Column("state", lambda b: b.state, "state"),
    Column("last_verdict", lambda b: b.last_verdict, "last_verdict"),
    Column("noindex", lambda b: b.noindex, "noindex", BOOLEAN),
    Column("canonical_url", lambda b: b.canonical_url, "canonical_url"),
    Column("robots_txt_blocked", lambda b: b.robots_txt_blocked, "robots_txt_blocked", BOOLEAN),
    Column("placement", lambda b: b.placement, "placement"),
    Column("link_kind", lambda b: b.link_kind, "link_kind"),
    Column("link_rel", lambda b: b.link_rel, "link_rel"),
    Column(
        "won_by",
        lambda b: b.won_by.get_username() if b.won_by else "",
        f"won_by__{User.USERNAME_FIELD}",
    ),
    Column("won_on", lambda b: b.won_on, "won_on", DATE),
    Column("cost", lambda b: b.cost, "cost", NUMBER),
    Column("prospect_url", lambda b: b.prospect.url if b.prospect else "", "prospect__url"),
    Column("first_seen_at", lambda b: b.first_seen_at, "first_seen_at", DATETIME),
    Column("last_checked_at", lambda b: b.last_checked_at, "last_checked_at", DATETIME),
    Column("next_check_at", lambda b: b.next_check_at, "next_check_at", DATETIME),
    Column("lost_at", lambda b: b.lost_at, "lost_at", DATETIME),
)


def backlink_rows(queryset: QuerySet[Backlink]) -> Iterator[list[Any]]:
    """The header, then one list of values per backlink, in the queryset's
    order (as cell text on PostgreSQL, typed elsewhere: the same cells)."""
    if spreadsheets.uses_sql_path():
        return spreadsheets.sql_rows(queryset, BACKLINK_COLUMNS)
    queryset = queryset.select_related("target_page", "won_by", "prospect")
    return table_rows(BACKLINK_COLUMNS, queryset.iterator(chunk_size=spreadsheets.CHUNK_SIZE))


def backlink_csv(queryset: QuerySet[Backlink]) -> Iterator[str]:
    """The CSV lines of ``backlink_rows``."""
    if spreadsheets.uses_sql_path():
        return spreadsheets.sql_csv_lines(queryset, BACKLINK_COLUMNS)
    return spreadsheets.csv_lines(backlink_rows(queryset))
