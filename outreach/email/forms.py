"""Forms of the outreach email pages. They validate; the writes are in
``configuration``, ``mailboxes`` and ``sequences``."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator

from campaigns.models import Campaign
from outreach.email.models import EmailTemplate, Mailbox
from outreach.email.wire import secrets
from outreach.email.wire.merge import FIELDS, MAX_TEMPLATE_CHARS

FOLLOW_UP_SLOTS = 3


class _NoColon:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]


class TemplateForm(_NoColon, forms.Form):
    """A pitch and up to three follow-ups. An empty follow-up body means none."""

    name = forms.CharField(
        label="Name", max_length=120, help_text="For the team, e.g. “Resource page pitch”."
    )
    subject = forms.CharField(label="Subject", max_length=250)
    body = forms.CharField(
        label="Pitch", max_length=MAX_TEMPLATE_CHARS, widget=forms.Textarea(attrs={"rows": 9})
    )
    is_archived = forms.BooleanField(
        label="Archived (kept for the stats, no longer offered)", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for slot in range(1, FOLLOW_UP_SLOTS + 1):
            self.fields[f"follow_up_{slot}_days"] = forms.IntegerField(
                label=f"Follow-up {slot}: days after the pitch",
                required=False,
                min_value=1,
                max_value=90,
            )
            self.fields[f"follow_up_{slot}"] = forms.CharField(
                label=f"Follow-up {slot}",
                required=False,
                max_length=MAX_TEMPLATE_CHARS,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="Sent in the same thread (“Re: subject”). Leave empty for none.",
            )

    @classmethod
    def initial_for(cls, template: EmailTemplate | None) -> dict[str, Any]:
        if template is None:
            return {
                "follow_up_1_days": 3,
                "follow_up_1": "Hi {{ first_name }},\n\nJust floating this back up. "
                "Would {{ target_url }} be useful on {{ site }}?\n\n{{ sender_name }}",
                "follow_up_2_days": 7,
                "follow_up_2": "Hi {{ first_name }},\n\nLast note from me on this; no worries if "
                "the timing is not right.\n\n{{ sender_name }}",
            }
        initial: dict[str, Any] = {
            "name": template.name,
            "subject": template.subject,
            "body": template.body,
            "is_archived": template.is_archived,
        }
        for slot, follow_up in enumerate(template.follow_ups.all(), start=1):
            initial[f"follow_up_{slot}_days"] = follow_up.delay_days
            initial[f"follow_up_{slot}"] = follow_up.body
        return initial

    def follow_up_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"follow_up_{slot}_days"], self[f"follow_up_{slot}"])
            for slot in range(1, FOLLOW_UP_SLOTS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        follow_ups = []
        for slot in range(1, FOLLOW_UP_SLOTS + 1):
            days, body = data.get(f"follow_up_{slot}_days"), (data.get(f"follow_up_{slot}") or "")
            if body.strip() and days is None:
                self.add_error(f"follow_up_{slot}_days", "Say how many days after the pitch.")
            elif body.strip():
                follow_ups.append((days, body))
        data["follow_ups"] = follow_ups
        return data

    @property
    def merge_fields(self) -> dict[str, str]:
        return FIELDS


class StartSequenceForm(_NoColon, forms.Form):
    template = forms.ModelChoiceField(
        label="Template", queryset=EmailTemplate.objects.none(), empty_label=None
    )
    mailbox = forms.ModelChoiceField(
        label="Send from", queryset=Mailbox.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, campaign: Campaign, mailboxes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = EmailTemplate.objects.filter(
            campaign=campaign, is_archived=False
        ).order_by("name")
        self.fields["mailbox"].queryset = mailboxes


class MailboxForm(_NoColon, forms.ModelForm):
    """Passwords are write-only: the page never shows them, and an empty box keeps
    the stored one."""

    smtp_password_new = forms.CharField(
        label="SMTP password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted. Leave empty to keep the current one.",
    )
    imap_password_new = forms.CharField(
        label="IMAP password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current one, or to use the SMTP password.",
    )
    clear_passwords = forms.BooleanField(label="Forget the stored passwords", required=False)
    time_zone = forms.ChoiceField(label="Time zone", choices=())

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "from_name",
            "email",
            "is_active",
            "campaigns",
            "daily_limit",
            "window_start",
            "window_end",
            "time_zone",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password_env",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password_env",
            "sent_folder",
        ]
        labels = {
            "smtp_password_env": "…or read the SMTP password from this environment variable "
            "(named ANCHORAGE_SECRET_…)",
            "imap_password_env": "…or read the IMAP password from this environment variable "
            "(named ANCHORAGE_SECRET_…)",
            "is_active": "Active (sends and reads replies)",
            "smtp_host": "SMTP host",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "smtp_username": "SMTP username",
            "imap_host": "IMAP host",
            "imap_port": "IMAP port",
            "imap_security": "IMAP security",
            "imap_username": "IMAP username (empty: the SMTP one)",
            "window_start": "Send from",
            "window_end": "Send until",
        }
        widgets = {
            "campaigns": forms.CheckboxSelectMultiple,
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            (name, name) for name in sorted(zoneinfo.available_timezones())
        ]
        self.fields["campaigns"].queryset = Campaign.objects.order_by("name")
        self.fields["daily_limit"].min_value = 1
        self.fields["daily_limit"].widget.attrs["min"] = 1
        self.fields["daily_limit"].validators.append(MinValueValidator(1))

    def _env_name(self, field: str) -> str:
        value = self.cleaned_data.get(field, "").strip()
        if value:
            try:
                secrets.check_name(value)
            except secrets.SecretNameRefused as exc:
                raise ValidationError(str(exc)) from exc
        return value

    def clean_smtp_password_env(self) -> str:
        return self._env_name("smtp_password_env")

    def clean_imap_password_env(self) -> str:
        return self._env_name("imap_password_env")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("smtp_password_new") and data.get("smtp_password_env"):
            self.add_error(
                "smtp_password_env", "Either type a password or name a variable, not both."
            )
        if data.get("imap_password_new") and data.get("imap_password_env"):
            self.add_error(
                "imap_password_env", "Either type a password or name a variable, not both."
            )
        if data.get("window_start") is not None and data.get("window_start") == data.get(
            "window_end"
        ):
            self.add_error(
                "window_end", "The sending hours must not start and end at the same time."
            )
        return data


class DoNotContactForm(_NoColon, forms.Form):
    value = forms.CharField(
        label="Email address or domain",
        max_length=254,
        help_text="A domain also blocks its subdomains and every address at it.",
    )
    reason = forms.CharField(label="Reason", max_length=300, required=False)
