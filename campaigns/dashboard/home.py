"""Where a person lands: "My day" for members, the campaign list for those who
oversee every campaign.

My day reads outreach (follow-ups, HARO deadlines) and links (unread alerts), so
it lives here, in the one part of campaigns allowed to read both. Its URL keeps
its name, ``links:my_day`` (config/urls.py says how).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from campaigns.access import campaigns_for, member_required
from links import queries as links_queries
from outreach import queries as outreach_queries

MY_DAY_PAGE_SIZE = 20


@member_required
def my_day(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaigns = campaigns_for(user)
    follow_ups = outreach_queries.my_follow_ups(user, campaigns)
    deadlines = outreach_queries.haro_deadlines(campaigns)
    alerts = links_queries.alerts_for(user, unread_only=True)
    context: dict[str, Any] = {
        "follow_ups": Paginator(follow_ups, MY_DAY_PAGE_SIZE).get_page(request.GET.get("fpage")),
        "deadlines": Paginator(deadlines, MY_DAY_PAGE_SIZE).get_page(request.GET.get("hpage")),
        "alerts": Paginator(alerts, MY_DAY_PAGE_SIZE).get_page(request.GET.get("apage")),
    }
    return render(request, "links/my_day.html", context)


def home(request: HttpRequest) -> HttpResponse:
    """Members land on their day; managers and admins, who oversee every campaign,
    on the campaign list."""
    if request.user.is_authenticated and not request.user.sees_all_campaigns:
        return redirect("links:my_day")
    return redirect("campaigns:list")
