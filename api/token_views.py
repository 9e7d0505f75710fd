"""The signed-in user's own API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api import tokens
from api.models import ApiToken
from campaigns.access import member_required

MAX_EXPIRY_DAYS = 3650


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “weekly report script”.")
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text="Leave empty for a token that does not expire.",
    )


@never_cache
@member_required
def token_list(request: HttpRequest) -> HttpResponse:
    shown_once = None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            expires_at = timezone.now() + timedelta(days=days) if days else None
            _, shown_once = tokens.issue_token(
                request.user, name=form.cleaned_data["name"], expires_at=expires_at
            )
            form = TokenForm()
    else:
        form = TokenForm()
    # The new token is in this one response only (never_cache): it is not
    # stored anywhere it could be shown again.
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user=request.user),
            "shown_once": shown_once,
        },
    )


@member_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if tokens.revoke_token(request.user, pk):
        messages.success(request, "Token revoked: it no longer opens the API.")
    else:
        messages.error(request, "No such active token.")
    return redirect("api_tokens:list")
