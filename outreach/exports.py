"""Prospects out to CSV and XLSX: one column table for both formats, written by
the spreadsheet writers of ``campaigns.spreadsheets`` (neutralized cells,
bounded memory). The rows and their order are those of the prospect list for
the same query string (``outreach.queries.filter_prospects``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from campaigns import spreadsheets
from campaigns.models import User
from campaigns.spreadsheets import DATE, DATETIME, NUMBER, Column, table_rows
from outreach.models import Prospect, Tag

# The tags joined in the database as in Python: by name, ", " between.
_TAG_NAMES = Subquery(
    Prospect.tags.through.objects.filter(prospect_id=OuterRef("pk"))
    .order_by()
    .values("prospect_id")
    .annotate(names=StringAgg("tag__name", ", ", order_by="tag__name"))
    .values("names")
)

PROSPECT_COLUMNS: tuple[Column, ...] = (
    Column("id", lambda p: p.pk, "id", NUMBER),
    Column("kind", lambda p: p.kind, "kind"),
    Column("url", lambda p: p.url, "url"),
    Column("domain", lambda p: p.domain, "domain"),
    Column("contact_name", lambda p: p.contact_name, "contact_name"),
    Column("contact_email", lambda p: p.contact_email, "contact_email"),
    Column("domain_rating", lambda p: p.domain_rating, "domain_rating", NUMBER),
    Column("niche", lambda p: p.niche, "niche"),
    Column("tags", lambda p: ", ".join(tag.name for tag in p.tags.all()), _TAG_NAMES),
    Column(
        "assignee",
        lambda p: p.assignee.get_username() if p.assignee else "",
        f"assignee__{User.USERNAME_FIELD}",
    ),
    Column("status", lambda p: p.status, "status"),
    Column("next_follow_up", lambda p: p.next_follow_up, "next_follow_up", DATE),
    Column("notes", lambda p: p.notes, "notes"),
    Column("outlet", lambda p: p.outlet, "outlet"),
    Column("query_text", lambda p: p.query_text, "query_text"),
    Column("deadline", lambda p: p.deadline, "deadline", DATETIME),
    Column("dead_url", lambda p: p.dead_url, "dead_url"),
    Column(
        "offered_target",
        lambda p: p.offered_target.url if p.offered_target else "",
        "offered_target__url",
    ),
    Column("fee", lambda p: p.fee, "fee", NUMBER),
    Column("created_at", lambda p: p.created_at, "created_at", DATETIME),
    Column("updated_at", lambda p: p.updated_at, "updated_at", DATETIME),
)


def prospect_rows(queryset: QuerySet[Prospect]) -> Iterator[list[Any]]:
    """The header, then one list of values per prospect, in the queryset's
    order (as cell text on PostgreSQL, typed elsewhere: the same cells)."""
    if spreadsheets.uses_sql_path():
        return spreadsheets.sql_rows(queryset, PROSPECT_COLUMNS)
    # The iterator prefetches tags one chunk at a time: one query per chunk.
    queryset = queryset.select_related("assignee", "offered_target").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )
    return table_rows(PROSPECT_COLUMNS, queryset.iterator(chunk_size=spreadsheets.CHUNK_SIZE))


def prospect_csv(queryset: QuerySet[Prospect]) -> Iterator[str]:
    """The CSV lines of ``prospect_rows``."""
    if spreadsheets.uses_sql_path():
        return spreadsheets.sql_csv_lines(queryset, PROSPECT_COLUMNS)
    return spreadsheets.csv_lines(prospect_rows(queryset))
