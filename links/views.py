"""The member's backlink pages (list, one link's check history, re-check now),
recording a won link, alerts, and the crawler's own page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from campaigns.access import campaigns_for, get_campaign_for_user, member_required
from campaigns.models import Campaign
from links import budgets, history, queries, services
from links.forms import WonLinkForm
from links.models import Alert, Backlink
from links.prospecting.services import ROBOTS_AGENT
from links.verification.fetch import FetchConfig
from outreach.models import Prospect

CHECKS_PAGE_SIZE = 20


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an htmx request will swap, or None for a full page."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def _next_or(request: HttpRequest, default: str) -> str:
    """Where a non-htmx form asked to go back to, if it is a path on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- Backlinks ----------------------------------------------------------------


@member_required
@vary_on_headers("HX-Request")
def backlink_list(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    form = queries.BacklinkFilterForm(request.GET)
    backlinks = queries.filter_backlinks(campaign, request.GET).select_related("won_by")
    is_filtered = form.is_filtered
    paginator = Paginator(backlinks, queries.PAGE_SIZE)
    if not is_filtered:
        paginator.count = queries.backlink_count(campaign)
    context = {
        "campaign": campaign,
        "form": form,
        "page": paginator.get_page(request.GET.get("page")),
        "is_filtered": is_filtered,
        "tab": "backlinks",
    }
    if _htmx_target(request) == "backlink-table":
        response = render(request, "links/backlink_list.html#backlink-table", context)
    else:
        response = render(request, "links/backlink_list.html", context)
    return response


def _get_backlink(campaign: Campaign, pk: int) -> Backlink:
    return get_object_or_404(
        Backlink.objects.select_related("won_by", "target_page", "prospect"),
        campaign=campaign,
        pk=pk,
    )


@member_required
@vary_on_headers("HX-Request")
def backlink_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    backlink = _get_backlink(campaign, pk)
    # Kept checks and the summaries of folded ones (links.history).
    checks, check_count = history.history_page(backlink, request.GET.get("page"), CHECKS_PAGE_SIZE)
    context = {
        "campaign": campaign,
        "backlink": backlink,
        # The detail page shows the same row as the list, so re-check behaves alike.
        "backlink_list": [backlink],
        "checks": checks,
        "check_count": check_count,
        "tab": "backlinks",
    }
    if _htmx_target(request) == "check-history":
        response = render(request, "links/backlink_detail.html#check-history", context)
    else:
        response = render(request, "links/backlink_detail.html", context)
    return response


@member_required
@require_POST
def backlink_recheck(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    backlink = _get_backlink(campaign, pk)
    try:
        services.request_recheck(backlink, by=request.user)
    except budgets.OverBudget as exc:
        backlink.refresh_from_db()
        if _htmx_target(request) == f"backlink-{backlink.pk}":
            # 200, not 429: htmx swaps only 2xx answers, and the row must show why.
            return _render_row(request, campaign, backlink, refused=exc.message)
        back = reverse("links:backlink_detail", args=[slug, pk])
        return budgets.refusal_page(request, exc, back=back)
    if _htmx_target(request) == f"backlink-{backlink.pk}":
        return _render_row(request, campaign, backlink)
    messages.success(request, "Check requested: the result appears here within a minute.")
    return redirect("links:backlink_detail", slug, pk)


@member_required
def backlink_row(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One table row; polled every 2 s while a re-check is outstanding. The row it
    returns polls again only while still waiting, so polling stops by itself."""
    campaign = get_campaign_for_user(request, slug)
    backlink = _get_backlink(campaign, pk)
    response = _render_row(request, campaign, backlink)
    if backlink.recheck_status() == "" and backlink.check_requested_at:
        # Lets the check history on the detail page reload itself.
        trigger_client_event(response, "backlink-checked")
    return response


def _render_row(
    request: HttpRequest, campaign: Campaign, backlink: Backlink, *, refused: str = ""
) -> HttpResponse:
    context = {"campaign": campaign, "backlink": backlink, "refused": refused}
    return render(request, "links/includes/backlink_row.html", context)


# --- Mark won -----------------------------------------------------------------


@member_required
def mark_won(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    prospect = get_object_or_404(
        Prospect.objects.select_related("offered_target"), campaign=campaign, pk=pk
    )
    prospect.campaign = campaign
    if request.method == "POST":
        form = WonLinkForm(request.POST, campaign=campaign)
        if form.is_valid():
            data = form.cleaned_data
            try:
                backlink = services.record_won_link(
                    prospect,
                    by=request.user,
                    source_url=data["source_url"],
                    target_page=data["target_page"],
                    target_url=data["target_url"],
                    anchor_text=data["anchor_text"],
                    cost=data["cost"],
                    won_on=data["won_on"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, f"Backlink from {backlink.source_domain} recorded; first check queued."
                )
                url = reverse("links:backlink_list", args=[campaign.slug])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        form = WonLinkForm.prefilled(prospect)
    context = {"campaign": campaign, "prospect": prospect, "form": form, "tab": "prospects"}
    if _htmx_target(request) == "won-form":
        return render(request, "links/mark_won.html#won-form", context)
    return render(request, "links/mark_won.html", context)


# --- Alerts -------------------------------------------------------------------


@member_required
def alert_list(request: HttpRequest) -> HttpResponse:
    show = "all" if request.GET.get("show") == "all" else "unread"
    alerts = queries.alerts_for(request.user, unread_only=show == "unread")
    page = Paginator(alerts, queries.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "links/alert_list.html", {"page": page, "show": show})


@member_required
@require_POST
def alert_read(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(
        Alert.objects.select_related("campaign", "backlink"),
        campaign__in=campaigns_for(request.user),
        pk=pk,
    )
    services.mark_alerts_read(Alert.objects.filter(pk=alert.pk), by=request.user)
    alert.refresh_from_db(fields=["read_at", "read_by"])
    if _htmx_target(request) == f"alert-{alert.pk}":
        # The row, plus the navigation's unread count swapped out of band.
        return render(request, "links/includes/alert_read_response.html", {"alert": alert})
    return redirect(_next_or(request, reverse("links:alert_list")))


@member_required
@require_POST
def alert_read_all(request: HttpRequest) -> HttpResponse:
    visible = Alert.objects.filter(campaign__in=campaigns_for(request.user))
    n = services.mark_alerts_read(visible, by=request.user)
    messages.success(request, f"Marked {n} alert{'s' if n != 1 else ''} read.")
    return redirect("links:alert_list")


# --- The crawler's page --------------------------------------------------------


def about_bot(request: HttpRequest) -> HttpResponse:
    """The page AnchorageBot's User-Agent points at: public, because the people
    who read it are the owners of the sites it visits, not our users."""
    context = {
        "user_agent": settings.VERIFIER_USER_AGENT,
        "robots_agent": ROBOTS_AGENT,
        "robots_cache_minutes": int(FetchConfig().robots_ttl // 60),
        "per_host_limit": settings.VERIFIER_PER_HOST_LIMIT,
        "timeout_seconds": settings.VERIFIER_TIMEOUT_SECONDS,
        "max_kib": settings.VERIFIER_MAX_BYTES // 1024,
        "max_redirects": settings.VERIFIER_MAX_REDIRECTS,
        "scan_max_pages": settings.BROKEN_LINKS_MAX_PAGES,
        "contact_email": settings.BOT_CONTACT_EMAIL,
    }
    return render(request, "links/about_bot.html", context)
