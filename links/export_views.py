"""XLSX download of a campaign's backlinks, for its members and for managers."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest

from campaigns.access import get_campaign_for_user, member_required
from links.exports import backlink_rows
from links.queries import filter_backlinks
from outreach.export_views import xlsx_response
from outreach.exports import xlsx_filename


@member_required
def backlinks_xlsx(request: HttpRequest, slug: str) -> FileResponse:
    campaign = get_campaign_for_user(request, slug)
    backlinks = filter_backlinks(campaign, request.GET)
    return xlsx_response(
        backlink_rows(backlinks),
        filename=xlsx_filename(campaign.slug, "backlinks"),
        title="Backlinks",
    )
