from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers

from campaigns.access import (
    campaigns_for,
    get_campaign_for_user,
    manager_required,
    member_required,
)
from campaigns.dashboard import comparison, queries
from campaigns.dashboard.forms import PeriodForm
from campaigns.dashboard.panels import PANELS, PANELS_BY_ID, build_panel
from campaigns.models import Campaign


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
    backlink_states = queries.backlink_counts_by_state(campaign)
    context = {
        "campaign": campaign,
        "target_pages": campaign.target_pages.all()[:50],
        "target_page_count": campaign.target_pages.count(),
        "prospect_statuses": queries.prospect_counts_by_status(campaign),
        "backlink_states": backlink_states,
        "goal": queries.goal_progress(campaign, backlink_states),
        "members": campaign.members.order_by("username")[:50],
    }
    return render(request, "campaigns/campaign_detail.html", context)


@member_required
def campaign_comparison(request: HttpRequest, slug: str) -> HttpResponse:
    """Our backlink profile beside each competitor's (campaigns.dashboard.comparison)."""
    campaign = get_campaign_for_user(request, slug)
    result = comparison.compare(campaign)
    pages = Paginator(comparison.most_linked_pages(result), comparison.PAGES_PAGE_SIZE)
    context = {
        "campaign": campaign,
        "comparison": result,
        "panels": comparison.panels(result),
        "page": pages.get_page(request.GET.get("page")),
    }
    return render(request, "campaigns/comparison.html", context)


@manager_required
def campaign_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    return _dashboard(request, campaign)


@manager_required
def all_campaigns_dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, None)


@manager_required
@vary_on_headers("HX-Request")
def campaign_dashboard_panel(request: HttpRequest, slug: str, panel: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    return _panel(request, Campaign.objects.filter(pk=campaign.pk), campaign, panel)


@manager_required
@vary_on_headers("HX-Request")
def all_campaigns_dashboard_panel(request: HttpRequest, panel: str) -> HttpResponse:
    return _panel(request, campaigns_for(request.user), None, panel)


def _panel_url(campaign: Campaign | None, panel_id: str) -> str:
    if campaign is None:
        return reverse("dashboard:panel", args=[panel_id])
    return reverse("campaigns:dashboard_panel", args=[campaign.slug, panel_id])


def _dashboard(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    """The page and a placeholder per chart. Each chart is its own request (htmx,
    on load): the page shows at once, the charts arrive side by side as their
    queries finish, and a slow one holds up no other."""
    form = PeriodForm(request.GET)
    context = {"campaign": campaign, "form": form, "panels": []}
    if not form.is_valid():
        return render(request, "campaigns/dashboard.html", context, status=400)
    period = form.period
    query = urlencode({"start": period.start, "end": period.end})
    # The fields show the range in use, the default one included.
    context["form"] = PeriodForm(initial={"start": period.start, "end": period.end})
    context["period"] = period
    context["panels"] = [(spec, f"{_panel_url(campaign, spec.id)}?{query}") for spec in PANELS]
    return render(request, "campaigns/dashboard.html", context)


def _panel(
    request: HttpRequest, campaigns: QuerySet[Campaign], campaign: Campaign | None, panel_id: str
) -> HttpResponse:
    spec = PANELS_BY_ID.get(panel_id)
    if spec is None:
        raise Http404("No such chart.")
    form = PeriodForm(request.GET)
    context = {"campaign": campaign, "form": form, "spec": spec}
    if form.is_valid():
        context["period"] = form.period
        context["panel"] = build_panel(spec, campaigns, form.period)
        status = 200
    else:
        status = 400
    # The dashboard swaps the fragment into its placeholder; the same URL opened
    # on its own (no JavaScript, a shared link) is a page with that one chart.
    template = (
        "campaigns/dashboard_panel.html#panel-body"
        if request.htmx
        else "campaigns/dashboard_panel.html"
    )
    response = render(request, template, context, status=status)
    return response
