"""XLSX downloads of a campaign's prospects, for its members and for managers.
(The CSV export views live with the dashboard; both write through exports.py.)"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import Any

from django.http import FileResponse, HttpRequest

from campaigns.access import get_campaign_for_user, member_required
from outreach.exports import prospect_rows, write_xlsx, xlsx_filename
from outreach.queries import filter_prospects

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(rows: Iterable[list[Any]], *, filename: str, title: str) -> FileResponse:
    # Spooled: a small export stays in memory, a big one goes to a temporary
    # file; a zip cannot be streamed before its directory is written anyway.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(rows, spool, title=title)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX)


@member_required
def prospects_xlsx(request: HttpRequest, slug: str) -> FileResponse:
    campaign = get_campaign_for_user(request, slug)
    # The list's own filters, so a download has exactly the rows on screen.
    prospects = filter_prospects(campaign, request.GET)
    return xlsx_response(
        prospect_rows(prospects),
        filename=xlsx_filename(campaign.slug, "prospects"),
        title="Prospects",
    )
