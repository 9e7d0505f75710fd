"""Sign-in guards around Django's auth views: the page django-axes answers
with once a username has failed too often from one address, and the password
reset that also lifts such a lockout."""

from __future__ import annotations

from datetime import datetime

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db.models import Max
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest) -> str | None:
    """The address a sign-in is counted against. Behind TRUSTED_PROXY_HOPS
    proxies that each append to X-Forwarded-For, it is that many entries from
    the right: entries further left are whatever the client wrote, and trusting
    them would let a guesser take a fresh address on every try. Without it,
    every sign-in would come from the proxy, and five wrong guesses by anyone
    would lock the owner out."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")


def retry_at(request: HttpRequest, username: str) -> datetime:
    """When this username may try again from this address: the cool-off runs
    from its last failure (failures during the lockout do not extend it, see
    AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)."""
    last = AccessAttempt.objects.filter(
        username=username, ip_address=getattr(request, "axes_ip_address", None)
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last or timezone.now()) + get_cool_off(request)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    username = get_client_username(request, credentials) or ""
    until = retry_at(request, username)
    minutes = max(1, -(-int((until - timezone.now()).total_seconds()) // 60))
    return render(
        request,
        "registration/locked_out.html",
        {"username": username, "retry_at": until, "minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, and a new password set from the emailed link also lifts a
    lockout: whoever holds the mailbox is the account's owner."""

    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        reset_lockout(username=self.user.get_username())
        return response
