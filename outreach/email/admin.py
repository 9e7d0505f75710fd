"""Outreach email in the Django admin. Mailboxes, templates and the do-not-contact
list have their own pages (outreach/mailboxes/, campaigns/<slug>/templates/,
outreach/do-not-contact/); here they are for looking things up. Passwords are never
shown."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from outreach.email.models import (
    DoNotContact,
    EmailTemplate,
    InboundEmail,
    Mailbox,
    ScheduledEmail,
    Sequence,
    TemplateFollowUp,
)


class FollowUpInline(admin.TabularInline):
    model = TemplateFollowUp
    extra = 0


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "is_archived", "updated_at"]
    list_filter = ["is_archived", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["name", "subject"]
    inlines = [FollowUpInline]


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "is_active", "daily_limit", "last_polled_at", "edit_page"]
    exclude = ["smtp_password", "imap_password"]
    readonly_fields = [
        "imap_uidvalidity",
        "imap_last_uid",
        "poll_lease_until",
        "last_polled_at",
        "last_poll_error",
        "last_send_error",
    ]

    @admin.display(description="Passwords")
    def edit_page(self, obj: Mailbox) -> str:
        url = reverse("outreach:mailbox_edit", args=[obj.pk])
        return format_html('<a href="{}">set on the mailbox page</a>', url)


@admin.register(DoNotContact)
class DoNotContactAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "source", "added_by", "created_at"]
    list_filter = ["kind", "source"]
    search_fields = ["value", "reason"]
    raw_id_fields = ["added_by"]


class ScheduledEmailInline(admin.TabularInline):
    model = ScheduledEmail
    extra = 0
    can_delete = False
    fields = ["step", "state", "due_at", "sent_at", "attempts", "message_id", "last_error"]
    readonly_fields = fields


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["prospect", "template", "mailbox", "state", "stop_reason", "started_at"]
    list_filter = ["state", "stop_reason"]
    list_select_related = ["prospect", "template", "mailbox"]
    search_fields = ["to_email", "domain"]
    raw_id_fields = ["prospect", "started_by"]
    inlines = [ScheduledEmailInline]


@admin.register(ScheduledEmail)
class ScheduledEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_email", "step", "state", "due_at", "sent_at"]
    list_filter = ["state"]
    search_fields = ["to_email", "message_id", "subject"]
    raw_id_fields = ["sequence", "activity"]
    readonly_fields = ["message_id", "claim_token", "claimed_at", "transmit_started_at"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["from_address", "subject", "kind", "mailbox", "prospect", "received_at"]
    list_filter = ["kind", "mailbox"]
    search_fields = ["from_address", "subject", "message_id"]
    raw_id_fields = ["sequence", "prospect"]
