"""The journalist-query inbox: read, filter by a campaign's keywords, paste a
digest, make a query a haro prospect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns.access import admin_required, campaigns_for, member_required
from campaigns.models import Campaign
from outreach.journalist_queries import services
from outreach.journalist_queries.models import JournalistQuery, Mailbox

PAGE_SIZE = 25


def _campaign(request: HttpRequest, slug: str | None) -> Campaign | None:
    if not slug:
        return None
    campaign = campaigns_for(request.user).filter(slug=slug).first()
    if campaign is None:
        raise Http404("No such campaign")
    return campaign


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("inbox:queries")


@member_required
def inbox(request: HttpRequest) -> HttpResponse:
    campaigns = list(campaigns_for(request.user).exclude(status="archived").order_by("name")[:200])
    campaign = _campaign(request, request.GET.get("campaign"))
    keywords = services.campaign_keywords(campaign) if campaign is not None else []
    only_matching = request.GET.get("matching") == "1" and bool(keywords)
    search = request.GET.get("q", "").strip()[:200]
    include_past = request.GET.get("past") == "1"
    queries = services.inbox_queries(include_past=include_past).select_related("digest")
    if only_matching:
        queries = queries.filter(services.matching_filter(keywords))
    if search:
        queries = queries.filter(
            Q(title__icontains=search)
            | Q(query_text__icontains=search)
            | Q(outlet__icontains=search)
            | Q(category__icontains=search)
        )
    queries = queries.order_by("deadline", "-received_at", "pk")
    page = Paginator(queries, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    taken = services.prospects_by_query(items, campaign)
    rows = [
        {
            "query": query,
            "matched": services.matched_keywords(query, keywords),
            "prospect_id": taken.get(query.pk),
        }
        for query in items
    ]
    context = {
        "page": page,
        "rows": rows,
        "campaigns": campaigns,
        "campaign": campaign,
        "keywords": keywords,
        "only_matching": only_matching,
        "search": search,
        "include_past": include_past,
        "mailboxes": Mailbox.objects.filter(enabled=True).order_by("name")[:20]
        if request.user.has_role("admin")
        else [],
    }
    return render(request, "inbox/inbox.html", context)


@member_required
def paste(request: HttpRequest) -> HttpResponse:
    error = None
    text = subject = ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        subject = request.POST.get("subject", "")[:500]
        if len(text) > 1_000_000:
            error = "That is more than a million characters: paste one digest at a time."
        else:
            try:
                result = services.ingest_pasted(text, subject=subject, by=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    f"{result.created} new quer{'y' if result.created == 1 else 'ies'}"
                    + (f", {result.duplicates} already in the inbox" if result.duplicates else "")
                    + ".",
                )
                return redirect("inbox:queries")
    return render(
        request,
        "inbox/paste.html",
        {"error": error, "text": text, "subject": subject},
        status=400 if error else 200,
    )


@member_required
@require_POST
def query_prospect(request: HttpRequest, query_id: int) -> HttpResponse:
    query = get_object_or_404(JournalistQuery, pk=query_id)
    campaign = _campaign(request, request.POST.get("campaign"))
    error = None
    prospect = None
    if campaign is None:
        error = "Pick the campaign this query is for."
    else:
        try:
            prospect = services.make_prospect(query, campaign=campaign, by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if request.htmx:
        keywords = services.campaign_keywords(campaign) if campaign is not None else []
        row = {
            "query": query,
            "matched": services.matched_keywords(query, keywords),
            "prospect_id": prospect.pk if prospect else None,
        }
        return render(
            request,
            "inbox/inbox.html#query-row",
            {"row": row, "campaign": campaign, "error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{query.title or 'Query'}” is now a prospect of {campaign}.")
    return redirect(_back(request))


@member_required
@require_POST
def dismiss(request: HttpRequest, query_id: int) -> HttpResponse:
    query = get_object_or_404(JournalistQuery, pk=query_id)
    services.dismiss(query)
    if request.htmx:
        return HttpResponse("")
    messages.info(request, "Query dismissed.")
    return redirect(_back(request))


@admin_required
@require_POST
def poll_now(request: HttpRequest) -> HttpResponse:
    from outreach.journalist_queries.tasks import poll_query_mailboxes

    transaction.on_commit(lambda: poll_query_mailboxes.delay())
    messages.info(request, "Reading the mailboxes now; new queries appear in a moment.")
    return redirect(_back(request))
