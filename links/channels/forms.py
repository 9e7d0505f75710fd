from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from links.channels.models import WEBHOOK_KINDS, AlertChannel, ChannelKind
from links.verification.outbound import refusal_reason


def webhook_url_problem(url: str) -> str | None:
    """Why a webhook URL is refused before anything is sent, or None. The
    guard refuses more when the request goes (names that resolve privately)."""
    allow_private = settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS
    if not allow_private and urlsplit(url.strip()).scheme.lower() != "https":
        return "Webhook URLs must start with https://: alerts are not sent in clear text."
    reason = refusal_reason(url, allow_private_networks=allow_private)
    if reason:
        return f"This URL cannot receive alerts: {reason}."
    return None


class ChannelForm(forms.ModelForm):
    # Required for webhook kinds only, which clean() decides.
    url = forms.URLField(
        label="Webhook URL",
        max_length=2000,
        required=False,
        assume_scheme="https",
        help_text="Slack's or Teams' incoming-webhook URL, or your receiver's (https).",
    )

    class Meta:
        model = AlertChannel
        fields = ["kind", "name", "url", "email", "enabled"]
        labels = {"enabled": "Send alerts here"}
        help_texts = {"email": "Blank: the campaign's owner."}

    def __init__(self, *args: Any, personal: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal = personal
        editing = self.instance.pk is not None
        if editing:
            # The kind decides the message format and the secret: a new kind is
            # a new channel.
            del self.fields["kind"]
            self.fields["url"].help_text = "Leave blank to keep the current URL."
            self.initial["url"] = ""
        if personal:
            # A user's email channel mails that user, nobody else.
            del self.fields["email"]
        elif editing and self.instance.kind != ChannelKind.EMAIL:
            del self.fields["email"]
        if editing and self.instance.kind == ChannelKind.EMAIL:
            del self.fields["url"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind", self.instance.kind)
        url = (data.get("url") or "").strip()
        if kind in WEBHOOK_KINDS:
            if not url and not self.instance.url:
                self.add_error("url", "This kind of channel needs its webhook URL.")
            elif url:
                problem = webhook_url_problem(url)
                if problem:
                    self.add_error("url", problem)
            if not url:
                data["url"] = self.instance.url
        else:
            data["url"] = ""
        return data
