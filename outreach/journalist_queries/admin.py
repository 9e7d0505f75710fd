from __future__ import annotations

from django import forms
from django.contrib import admin

from outreach.email.wire import secrets
from outreach.journalist_queries.models import Digest, JournalistQuery, Mailbox


class MailboxForm(forms.ModelForm):
    # Never shown back: left blank, the stored password stays as it is.
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Stored encrypted. Leave blank to keep the current one, or use the "
        "environment variable below instead.",
    )

    class Meta:
        model = Mailbox
        fields = ["name", "host", "port", "security", "username", "password", "password_env",
                  "folder", "enabled"]  # fmt: skip

    def clean_password_env(self) -> str:
        value = self.cleaned_data.get("password_env", "").strip()
        if value:
            try:
                secrets.check_name(value)
            except secrets.SecretNameRefused as exc:
                raise forms.ValidationError(str(exc)) from exc
        return value

    def save(self, commit: bool = True) -> Mailbox:
        mailbox = super().save(commit=False)
        if self.cleaned_data.get("password"):
            mailbox.set_password(self.cleaned_data["password"])
        if commit:
            mailbox.save()
        return mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["name", "host", "port", "security", "username", "enabled", "last_polled_at",
                    "last_error"]  # fmt: skip
    readonly_fields = ["last_polled_at", "last_error", "last_uid"]


@admin.register(JournalistQuery)
class JournalistQueryAdmin(admin.ModelAdmin):
    list_display = ["title", "service", "outlet", "deadline", "unparsed", "received_at"]
    list_filter = ["service", "unparsed"]
    search_fields = ["title", "query_text", "outlet"]
    raw_id_fields = ["digest"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["subject", "service", "source", "query_count", "received_at"]
    list_filter = ["service", "source"]
    search_fields = ["subject", "sender"]
