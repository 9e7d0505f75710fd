"""Alert channel pages: a campaign's (managers and admins) and a user's own
(every signed-in user, their channels only). Each page pair shares one body;
the scope says whose channels and where the pages live.

A generic webhook's signing secret is shown once, in the answer to the post
that made it (creating the channel, or "new secret"), like an API token: it is
a credential a receiver holds, and pages that show it again to every manager
would spread it through screenshots and shared screens. It is kept encrypted
(HMAC needs it back), so a lost one is replaced, not recovered.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.access import get_campaign_for_user, manager_required, member_required
from campaigns.models import Campaign
from links import budgets
from links.channels import services
from links.channels.forms import ChannelForm
from links.channels.models import AlertChannel, ChannelKind, Delivery

LOG_PAGE_SIZE = 25


@dataclass(frozen=True)
class Scope:
    """Whose channels a page shows: a campaign's, or the signed-in user's."""

    request: HttpRequest
    campaign: Campaign | None = None

    @property
    def personal(self) -> bool:
        return self.campaign is None

    def channels(self) -> QuerySet[AlertChannel]:
        # Each row shows where it goes: the owner's or the user's address.
        rows = AlertChannel.objects.select_related("campaign__owner", "user")
        if self.campaign is not None:
            return rows.filter(campaign=self.campaign)
        return rows.filter(user=self.request.user)

    def get(self, pk: int) -> AlertChannel:
        return get_object_or_404(self.channels(), pk=pk)

    def url(self, name: str, pk: int | None = None) -> str:
        args: list[object] = []
        prefix = "my_" if self.personal else "campaign_"
        if self.campaign is not None:
            args.append(self.campaign.slug)
        if pk is not None:
            args.append(pk)
        return reverse(f"alert_channels:{prefix}{name}", args=args)

    def context(self, **extra: object) -> dict[str, object]:
        return {"campaign": self.campaign, "tab": "alert_channels", **extra}


def _campaign(request: HttpRequest, slug: str) -> Scope:
    return Scope(request, get_campaign_for_user(request, slug))


# --- The pages, once ------------------------------------------------------------------


def _list(scope: Scope) -> HttpResponse:
    channels = scope.channels()
    has_email = any(channel.kind == ChannelKind.EMAIL for channel in channels)
    return render(
        scope.request,
        "alert_channels/channel_list.html",
        scope.context(channels=channels, default_email=not scope.personal and not has_email),
    )


def _create(scope: Scope) -> HttpResponse:
    request = scope.request
    form = ChannelForm(request.POST or None, personal=scope.personal)
    if request.method == "POST" and form.is_valid():
        channel = form.save(commit=False)
        channel.campaign = scope.campaign
        channel.user = request.user if scope.personal else None
        channel.created_by = request.user
        secret = channel.new_secret() if channel.kind == ChannelKind.WEBHOOK else ""
        channel.save()
        if secret:
            return _detail_page(scope, channel, form=None, shown_once=secret)
        messages.success(request, f"Channel “{channel.name}” added.")
        return redirect(scope.url("detail", channel.pk))
    return render(request, "alert_channels/channel_form.html", scope.context(form=form))


def _detail(scope: Scope, pk: int) -> HttpResponse:
    request = scope.request
    channel = scope.get(pk)
    form = ChannelForm(request.POST or None, instance=channel, personal=scope.personal)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Channel saved.")
        return redirect(scope.url("detail", channel.pk))
    return _detail_page(scope, channel, form=form)


def _detail_page(
    scope: Scope, channel: AlertChannel, *, form: ChannelForm | None, shown_once: str = ""
) -> HttpResponse:
    request = scope.request
    if form is None:
        form = ChannelForm(instance=channel, personal=scope.personal)
    log = Delivery.objects.filter(channel=channel).select_related("requested_by")
    page = Paginator(log, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alert_channels/channel_detail.html",
        scope.context(channel=channel, form=form, page=page, shown_once=shown_once),
    )


def _delete(scope: Scope, pk: int) -> HttpResponse:
    channel = scope.get(pk)
    channel.delete()
    note = ""
    if channel.kind == ChannelKind.EMAIL and scope.campaign is not None:
        note = " Without any email channel, the owner's email digest comes back."
    messages.success(scope.request, f"Channel “{channel.name}” deleted.{note}")
    return redirect(scope.url("list"))


def _send_test(scope: Scope, pk: int) -> HttpResponse:
    channel = scope.get(pk)
    back = scope.url("detail", channel.pk)
    try:
        services.send_test(channel, by=scope.request.user)
    except budgets.OverBudget as exc:
        return budgets.refusal_page(scope.request, exc, back=back)
    messages.success(scope.request, "Test message queued: its line appears in the log below.")
    return redirect(back)


def _new_secret(scope: Scope, pk: int) -> HttpResponse:
    channel = scope.get(pk)
    if channel.kind != ChannelKind.WEBHOOK:
        messages.error(scope.request, "Only webhook channels have a signing secret.")
        return redirect(scope.url("detail", channel.pk))
    secret = channel.new_secret()
    channel.save(update_fields=["secret_encrypted"])
    return _detail_page(scope, channel, form=None, shown_once=secret)


# --- A campaign's channels: managers and admins ------------------------------------------


@manager_required
def campaign_list(request: HttpRequest, slug: str) -> HttpResponse:
    return _list(_campaign(request, slug))


@never_cache
@manager_required
def campaign_create(request: HttpRequest, slug: str) -> HttpResponse:
    return _create(_campaign(request, slug))


@manager_required
def campaign_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _detail(_campaign(request, slug), pk)


@manager_required
@require_POST
def campaign_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _delete(_campaign(request, slug), pk)


@manager_required
@require_POST
def campaign_test(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _send_test(_campaign(request, slug), pk)


@never_cache
@manager_required
@require_POST
def campaign_secret(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _new_secret(_campaign(request, slug), pk)


# --- The user's own channels ----------------------------------------------------------------


@member_required
def my_list(request: HttpRequest) -> HttpResponse:
    return _list(Scope(request))


@never_cache
@member_required
def my_create(request: HttpRequest) -> HttpResponse:
    return _create(Scope(request))


@member_required
def my_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(Scope(request), pk)


@member_required
@require_POST
def my_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(Scope(request), pk)


@member_required
@require_POST
def my_test(request: HttpRequest, pk: int) -> HttpResponse:
    return _send_test(Scope(request), pk)


@never_cache
@member_required
@require_POST
def my_secret(request: HttpRequest, pk: int) -> HttpResponse:
    return _new_secret(Scope(request), pk)
