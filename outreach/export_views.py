"""Downloads of a campaign's prospects, CSV and XLSX, for its members and for
managers. Both have the list's own filters and order, so a download has exactly
the rows on screen, and the same columns (outreach/exports.py)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, StreamingHttpResponse

from campaigns.access import get_campaign_for_user, member_required
from campaigns.spreadsheets import csv_response, export_filename, xlsx_response
from outreach.exports import prospect_csv, prospect_rows
from outreach.queries import filter_prospects


@member_required
def prospects_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    campaign = get_campaign_for_user(request, slug)
    prospects = filter_prospects(campaign, request.GET)
    return csv_response(
        prospect_csv(prospects), filename=export_filename(campaign.slug, "prospects", "csv")
    )


@member_required
def prospects_xlsx(request: HttpRequest, slug: str) -> FileResponse:
    campaign = get_campaign_for_user(request, slug)
    prospects = filter_prospects(campaign, request.GET)
    return xlsx_response(
        prospect_rows(prospects),
        filename=export_filename(campaign.slug, "prospects", "xlsx"),
        title="Prospects",
    )
