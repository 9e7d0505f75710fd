"""Pages of the broken-link finder and the competitor link gap."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling

from campaigns.access import get_campaign_for_user, manager_required, member_required
from campaigns.uploads import too_large_message, upload_cap, upload_exceeded
from links import budgets
from links.budgets import OverBudget
from links.prospecting import gap, queries, services
from links.prospecting.models import BrokenLinkScan, DeadLink, DeadLinkCheck
from outreach.models import Kind, Prospect

PAGE_SIZE = 25


def _next_or(request: HttpRequest, fallback: str) -> str:
    """Where a form said to go back to, if it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _errors(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


# --- Broken-link finder --------------------------------------------------------------------


@member_required
def scan_list(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    errors: list[str] = []
    status = 200
    urls_text = ""
    if request.method == "POST":
        urls_text = request.POST.get("urls", "")
        read = services.read_page_urls(urls_text)
        picked = list(
            Prospect.objects.filter(
                campaign=campaign, pk__in=_ids(request.POST.getlist("prospects"))[:100]
            )
        )
        errors = read.errors
        if not errors:
            try:
                scan = services.start_scan(
                    campaign, by=request.user, urls=read.urls, prospects=picked
                )
            except ValidationError as exc:
                errors = _errors(exc)
            except OverBudget as exc:
                errors = [exc.message]
                status = 429
            else:
                return redirect("prospecting:scan_detail", slug=campaign.slug, scan_id=scan.pk)
    scans = Paginator(
        BrokenLinkScan.objects.filter(campaign=campaign).select_related("created_by"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {
        "campaign": campaign,
        "page": scans,
        "errors": errors,
        "urls_text": urls_text,
        "pickable": queries.pickable_prospects(campaign),
        "to_recheck": queries.broken_link_prospects(campaign)[:25],
    }
    if errors and status == 200:
        status = 400
    return render(request, "prospecting/scan_list.html", context, status=status)


@member_required
def scan_detail(request: HttpRequest, slug: str, scan_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    scan = get_object_or_404(BrokenLinkScan, campaign=campaign, pk=scan_id)
    verdict = request.GET.get("verdict", "")
    links = queries.dead_links(scan, verdict=verdict)
    page = Paginator(links, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = queries.with_ranked_targets(list(page.object_list), campaign)
    context = {
        "campaign": campaign,
        "scan": scan,
        "page": page,
        "rows": rows,
        "verdict": verdict,
        "pages": scan.pages.all()[:50],
    }
    return render(request, "prospecting/scan_detail.html", context)


@member_required
@vary_on_headers("HX-Request")
def scan_progress(request: HttpRequest, slug: str, scan_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    scan = get_object_or_404(BrokenLinkScan, campaign=campaign, pk=scan_id)
    if scan.finished and request.htmx:
        # The results are a whole page of their own: load it.
        return HttpResponseClientRefresh()
    return render(
        request, "prospecting/scan_detail.html#scan-progress", {"campaign": campaign, "scan": scan}
    )


@member_required
@require_POST
def scan_cancel(request: HttpRequest, slug: str, scan_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    scan = get_object_or_404(BrokenLinkScan, campaign=campaign, pk=scan_id)
    services.request_cancel(scan)
    if request.htmx:
        context = {"campaign": campaign, "scan": scan}
        return render(request, "prospecting/scan_detail.html#scan-progress", context)
    messages.info(request, "The scan is being cancelled; links found so far are kept.")
    return redirect("prospecting:scan_detail", slug=campaign.slug, scan_id=scan.pk)


@member_required
@require_POST
def dead_link_prospect(request: HttpRequest, slug: str, link_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    link = get_object_or_404(
        DeadLink.objects.select_related("page", "scan"), scan__campaign=campaign, pk=link_id
    )
    target_ids = _ids([request.POST.get("target", "")])
    target = campaign.target_pages.filter(pk=target_ids[0]).first() if target_ids else None
    error = None
    try:
        services.make_prospect(link, target=target, by=request.user)
    except ValidationError as exc:
        error = " ".join(_errors(exc))
    link.refresh_from_db()
    if request.htmx:
        (row,) = queries.with_ranked_targets([link], campaign)
        return render(
            request,
            "prospecting/scan_detail.html#dead-link-row",
            {"campaign": campaign, "row": row, "error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{link.page.final_url or link.page.url} is now a prospect.")
    return redirect("prospecting:scan_detail", slug=campaign.slug, scan_id=link.scan_id)


@member_required
@require_POST
def recheck_dead_link(request: HttpRequest, slug: str, prospect_id: int) -> HttpResponse:
    """Queue a check of the prospect's dead link; the fragment polls it."""
    campaign = get_campaign_for_user(request, slug)
    prospect = get_object_or_404(Prospect, campaign=campaign, pk=prospect_id, kind=Kind.BROKEN_LINK)
    error = None
    check = None
    try:
        check = services.request_dead_link_check(prospect, by=request.user)
    except ValidationError as exc:
        error = " ".join(_errors(exc))
    except OverBudget as exc:
        if not request.htmx:
            back = _next_or(request, campaign.get_absolute_url())
            return budgets.refusal_page(request, exc, back=back)
        # 200, not 429: htmx swaps only 2xx answers, and the notice must show.
        error = exc.message
        check = prospect.dead_checks.order_by("-requested_at").first()
    context = {"campaign": campaign, "prospect": prospect, "check": check, "error": error}
    if request.htmx:
        return render(request, "prospecting/includes/dead_link_recheck.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.info(request, f"Checking {prospect.dead_url}: the answer shows here shortly.")
    return redirect(_next_or(request, campaign.get_absolute_url()))


@member_required
@vary_on_headers("HX-Request")
def dead_link_check(
    request: HttpRequest, slug: str, prospect_id: int, check_id: int
) -> HttpResponse:
    """One dead-link check, polled every 2 s until it has an answer or times out."""
    campaign = get_campaign_for_user(request, slug)
    check = get_object_or_404(
        DeadLinkCheck.objects.select_related("prospect"),
        prospect__campaign=campaign,
        prospect_id=prospect_id,
        pk=check_id,
    )
    context = {"campaign": campaign, "prospect": check.prospect, "check": check, "error": None}
    if request.htmx and check.progress() != "waiting":
        # The answer (or the give-up) is the last swap: tell htmx to stop polling.
        html = render_to_string(
            "prospecting/includes/dead_link_recheck.html", context, request=request
        )
        return HttpResponseStopPolling(html)
    return render(request, "prospecting/includes/dead_link_recheck.html", context)


# --- Competitor link gap --------------------------------------------------------------------


@member_required
def link_gap(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    min_competitors = _int(request.GET.get("min"), default=2, low=2, high=50)
    rows = queries.link_gap(campaign, min_competitors=min_competitors)
    exports = list(queries.exports(campaign))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    names = queries.competitors_of(campaign, [row["domain"] for row in page.object_list])
    for row in page.object_list:
        row["competitor_names"] = names.get(row["domain"], [])
    context = {
        "campaign": campaign,
        "page": page,
        "exports": exports,
        "reading": any(not export.finished for export in exports),
        "min_competitors": min_competitors,
        "kinds": [(Kind.BLOGGER, Kind.BLOGGER.label), (Kind.GUEST_POST, Kind.GUEST_POST.label)],
        "max_upload_mb": gap.max_upload_mb(),
    }
    return render(request, "prospecting/link_gap.html", context)


@manager_required
@require_POST
@upload_cap(lambda: gap.max_upload_mb() * 1024 * 1024)
def link_gap_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    upload = request.FILES.get("file")
    if upload_exceeded(request):
        messages.error(request, too_large_message(gap.max_upload_mb() * 1024 * 1024))
        return redirect("prospecting:link_gap", slug=campaign.slug)
    if upload is None:
        messages.error(request, "Choose a backlink export file (CSV or XLSX) to upload.")
        return redirect("prospecting:link_gap", slug=campaign.slug)
    try:
        export = gap.queue_export(
            campaign,
            upload,
            competitor=request.POST.get("competitor", ""),
            is_ours=request.POST.get("is_ours") == "1",
            by=request.user,
        )
    except gap.ExportError as exc:
        messages.error(request, f"{upload.name}: {exc}")
    else:
        messages.info(request, f"Reading {export.original_name}; the gap updates when it is done.")
    return redirect("prospecting:link_gap", slug=campaign.slug)


@member_required
@vary_on_headers("HX-Request")
def link_gap_exports(request: HttpRequest, slug: str) -> HttpResponse:
    """The exports table, polled while one is being read."""
    campaign = get_campaign_for_user(request, slug)
    exports = list(queries.exports(campaign))
    if request.htmx and not any(not export.finished for export in exports):
        # Done: the gap table above has changed too, so reload the whole page.
        return HttpResponseClientRefresh()
    return render(
        request,
        "prospecting/link_gap.html#gap-exports",
        {"campaign": campaign, "exports": exports, "reading": True},
    )


@manager_required
@require_POST
def link_gap_delete_export(request: HttpRequest, slug: str, export_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    export = get_object_or_404(campaign.link_exports, pk=export_id)
    gap.delete_export(export)
    messages.success(request, f"Removed the export {export.original_name}.")
    return redirect("prospecting:link_gap", slug=campaign.slug)


@member_required
@require_POST
def link_gap_prospects(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    # A row's own button sends just its domain; the bulk button the ticked ones.
    one = request.POST.get("one", "")
    domains = [one] if one else request.POST.getlist("domain")[:500]
    kind = request.POST.get("kind", Kind.BLOGGER)
    if not domains:
        messages.error(request, "Tick at least one domain to make it a prospect.")
        return redirect("prospecting:link_gap", slug=campaign.slug)
    try:
        result = gap.make_prospects(campaign, domains=domains, kind=kind, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        text = f"{len(result.created)} new prospect{'s' if len(result.created) != 1 else ''}"
        if result.skipped:
            text += f"; {len(result.skipped)} already prospects or no longer in the gap"
        messages.success(request, text + ".")
    return redirect(_next_or(request, reverse("prospecting:link_gap", args=[campaign.slug])))


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()]


def _int(raw: str | None, *, default: int, low: int, high: int) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    return min(max(value, low), high)
