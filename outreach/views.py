"""The member's prospect pages: the filtered table with inline and bulk edits, and
one prospect's page with its timeline."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from campaigns.access import get_campaign_for_user, member_required
from campaigns.models import Campaign
from outreach import queries, services
from outreach.email import sequences as email_sequences
from outreach.forms import ActivityForm, BulkActionForm, StatusForm
from outreach.models import Prospect, Status

TIMELINE_PAGE_SIZE = 25


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an htmx request will swap, or None for a full page.

    A history restore (back button after the cache expired) wants the full page.
    """
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def _table_context(request: HttpRequest, campaign: Campaign, params: QueryDict) -> dict[str, Any]:
    form = queries.ProspectFilterForm(params)
    users = list(queries.assignable_users(campaign))
    tags = list(campaign.tags.all())
    form.offer_choices(users=users, tags=tags, me=request.user)
    prospects = queries.for_table(
        queries.apply_filters(Prospect.objects.filter(campaign=campaign), form.valid_values())
    )
    paginator = Paginator(prospects, queries.PAGE_SIZE)
    if not form.is_filtered:
        paginator.count = queries.prospect_count(campaign)
    page = paginator.get_page(params.get("page"))
    bulk_form = BulkActionForm(prefix="bulk")
    bulk_form.fields["assignee"].widget = _assignee_select(users, request)
    query = params.copy()
    query.pop("page", None)
    requested_sort = form.valid_values().get("sort") or ""
    list_url = reverse("outreach:prospect_list", args=[campaign.slug])
    return {
        "campaign": campaign,
        "form": form,
        "page": page,
        "bulk_form": bulk_form,
        "tags": tags,
        "query": query.urlencode(),
        "headers": _sort_headers(query, requested_sort or queries.DEFAULT_SORT),
        "sort": requested_sort,
        "back_url": f"{list_url}?{params.urlencode()}",
        "tab": "prospects",
        "sequence_choices": email_sequences.bulk_choices(campaign),
    }


# column -> the direction a first click sorts by (numbers and dates: largest first)
SORTABLE = {
    "domain": "",
    "dr": "-",
    "relevance": "-",
    "quality": "-",
    "status": "",
    "follow_up": "",
    "created": "-",
}


def _sort_headers(query: QueryDict, current: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (a second click reverses) and
    its aria-sort state."""
    headers = {}
    for column, first in SORTABLE.items():
        active = current.lstrip("-") == column
        descending = current.startswith("-")
        next_sort = ("" if descending else "-") + column if active else first + column
        params = query.copy()
        params["sort"] = next_sort
        headers[column] = {
            "url": f"?{params.urlencode()}",
            "aria_sort": ("descending" if descending else "ascending") if active else "none",
        }
    return headers


def _assignee_select(users: list[Any], request: HttpRequest) -> forms.Select:
    choices = queries.assignee_choices(users, me=request.user)
    # In the bulk form "none" means "take it away from whoever has it".
    choices = [("", "Choose…"), (queries.UNASSIGNED, "Nobody (unassign)"), *choices[2:]]
    return forms.Select(choices=choices)


@member_required
@vary_on_headers("HX-Request")
def prospect_list(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    context = _table_context(request, campaign, request.GET)
    if _htmx_target(request) == "prospect-table":
        response = render(request, "outreach/prospect_list.html#prospect-table", context)
    else:
        response = render(request, "outreach/prospect_list.html", context)
    return response


@member_required
@require_POST
def prospect_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    form = BulkActionForm(request.POST, prefix="bulk")
    ok, notice = False, ""
    if form.is_valid():
        try:
            notice = _run_bulk_action(campaign, form.cleaned_data, request)
            ok = True
        except ValidationError as exc:
            notice = " ".join(exc.messages)
    else:
        notice = " ".join(msg for errors in form.errors.values() for msg in errors)
    # The table the user was looking at, to show it again after the change.
    filters = QueryDict(request.POST.get("query", ""))
    if _htmx_target(request) == "prospect-table":
        context = _table_context(request, campaign, filters)
        context.update(notice=notice, notice_ok=ok)
        return render(request, "outreach/prospect_list.html#prospect-table", context)
    (messages.success if ok else messages.error)(request, notice)
    url = reverse("outreach:prospect_list", args=[campaign.slug])
    return redirect(f"{url}?{filters.urlencode()}" if filters else url)


def _run_bulk_action(campaign: Campaign, data: dict[str, Any], request: HttpRequest) -> str:
    ids, user = data["ids"], request.user
    if data["action"] == "assign":
        assignee = None
        if data["assignee"] != queries.UNASSIGNED:
            assignee = queries.assignable_users(campaign).filter(pk=data["assignee"]).first()
            if assignee is None:
                raise ValidationError("That person is not on this campaign.")
        n = services.bulk_assign(campaign, prospect_ids=ids, assignee=assignee, by=user)
        who = assignee.get_username() if assignee else "nobody"
        return f"Assigned {n} prospect{'s' if n != 1 else ''} to {who}."
    if data["action"] == "status":
        n = services.bulk_change_status(
            campaign, prospect_ids=ids, to_status=data["status"], by=user
        )
        label = Status(data["status"]).label
        return f"Moved {n} prospect{'s' if n != 1 else ''} to “{label}”."
    if data["action"] == "sequence":
        return email_sequences.start_for_selection(
            campaign, ids=ids, template_id=data["template"], mailbox_id=data["mailbox"], by=user
        )
    tag, n = services.bulk_add_tag(campaign, prospect_ids=ids, tag_name=data["tag"], by=user)
    return f"Tagged {n} prospect{'s' if n != 1 else ''} “{tag.name}”."


def _get_prospect(campaign: Campaign, pk: int) -> Prospect:
    return get_object_or_404(
        Prospect.objects.select_related("assignee", "offered_target"), campaign=campaign, pk=pk
    )


def _timeline_page(prospect: Prospect, number: Any) -> Any:
    return Paginator(queries.timeline(prospect), TIMELINE_PAGE_SIZE).get_page(number)


def _detail_context(
    request: HttpRequest, campaign: Campaign, prospect: Prospect, **extra: Any
) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "prospect": prospect,
        "status_form": StatusForm(initial={"status": prospect.status}),
        "activity_form": ActivityForm(),
        "timeline": _timeline_page(prospect, request.GET.get("timeline_page")),
        "tags": prospect.tags.all(),
        "tab": "prospects",
        "email": email_sequences.panel_context(campaign, prospect),
        **extra,
    }


@member_required
@vary_on_headers("HX-Request")
def prospect_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    prospect = _get_prospect(campaign, pk)
    if _htmx_target(request) == "prospect-timeline":
        context = {
            "campaign": campaign,
            "prospect": prospect,
            "timeline": _timeline_page(prospect, request.GET.get("timeline_page")),
        }
        response = render(request, "outreach/includes/prospect_timeline.html", context)
    else:
        context = _detail_context(request, campaign, prospect)
        response = render(request, "outreach/prospect_detail.html", context)
    return response


@member_required
@require_POST
def prospect_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    prospect = _get_prospect(campaign, pk)
    form = StatusForm(request.POST)
    error = ""
    if form.is_valid():
        services.change_status(prospect, to_status=form.cleaned_data["status"], by=request.user)
    else:
        error = "Choose one of the listed statuses."
    target = _htmx_target(request)
    if target == "prospect-status":
        context = {
            "campaign": campaign,
            "prospect": prospect,
            "status_form": StatusForm(initial={"status": prospect.status}),
            "status_error": error,
            "timeline": _timeline_page(prospect, 1),
            "oob": True,
        }
        return render(request, "outreach/includes/prospect_status_response.html", context)
    if target == f"prospect-{prospect.pk}":
        row = queries.for_table(Prospect.objects.filter(pk=prospect.pk)).get()
        context = {
            "campaign": campaign,
            "prospect": row,
            "row_error": error,
        }
        return render(request, "outreach/includes/prospect_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Status set to “{prospect.get_status_display()}”.")
    return redirect(_next_or(request, reverse("outreach:prospect_detail", args=[slug, pk])))


@member_required
@require_POST
def prospect_activity(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    prospect = _get_prospect(campaign, pk)
    form = ActivityForm(request.POST)
    logged = None
    if form.is_valid():
        data = form.cleaned_data
        logged = services.log_activity(
            prospect,
            kind=data["kind"],
            by=request.user,
            summary=data["summary"],
            next_follow_up=data["next_follow_up"],
            clear_follow_up=data["clear_follow_up"],
        )
        form = ActivityForm()
    if _htmx_target(request) == "activity-form":
        context = {
            "campaign": campaign,
            "prospect": prospect,
            "activity_form": form,
            "logged": logged,
            "timeline": _timeline_page(prospect, 1),
            "oob": True,
        }
        return render(request, "outreach/includes/activity_response.html", context)
    if logged is None:
        # Without htmx the errors need the whole page around them.
        context = _detail_context(request, campaign, prospect, activity_form=form)
        return render(request, "outreach/prospect_detail.html", context, status=400)
    messages.success(request, f"Logged: {logged.get_kind_display()}.")
    return redirect("outreach:prospect_detail", slug, pk)


def _next_or(request: HttpRequest, default: str) -> str:
    """Where a non-htmx form asked to go back to, if it is a path on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
