"""Downloads of a campaign's backlinks, CSV and XLSX, for its members and for
managers. Both have the list's own filters and order, so a download has exactly
the rows on screen, and the same columns (links/exports.py)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, StreamingHttpResponse

from campaigns.access import get_campaign_for_user, member_required
from campaigns.spreadsheets import csv_response, export_filename, xlsx_response
from links.exports import backlink_csv, backlink_rows
from links.queries import filter_backlinks


@member_required
def backlinks_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    campaign = get_campaign_for_user(request, slug)
    backlinks = filter_backlinks(campaign, request.GET)
    return csv_response(
        backlink_csv(backlinks), filename=export_filename(campaign.slug, "backlinks", "csv")
    )


@member_required
def backlinks_xlsx(request: HttpRequest, slug: str) -> FileResponse:
    campaign = get_campaign_for_user(request, slug)
    backlinks = filter_backlinks(campaign, request.GET)
    return xlsx_response(
        backlink_rows(backlinks),
        filename=export_filename(campaign.slug, "backlinks", "xlsx"),
        title="Backlinks",
    )
