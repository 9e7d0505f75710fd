from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from campaigns.access import campaigns_for, get_campaign_for_user, member_required
from campaigns.dashboard import queries


@member_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = queries.campaigns_with_counts(campaigns_for(request.user))
    show = request.GET.get("status", "active")
    if show != "all":
        campaigns = campaigns.filter(status=show)
    page = Paginator(campaigns.order_by("name"), 25).get_page(request.GET.get("page"))
    return render(request, "campaigns/campaign_list.html", {"page": page, "show": show})


@member_required
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    context = {
        "campaign": campaign,
        "target_pages": campaign.target_pages.all()[:50],
        "target_page_count": campaign.target_pages.count(),
        "prospect_statuses": queries.prospect_counts_by_status(campaign),
        "backlink_states": queries.backlink_counts_by_state(campaign),
        "goal": queries.goal_progress(campaign),
        "members": campaign.members.order_by("username")[:50],
    }
    return render(request, "campaigns/campaign_detail.html", context)
