from django.contrib import admin

from outreach.models import ImportJob, OutreachActivity, Prospect, StatusChange, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign"]
    list_filter = ["campaign"]
    list_select_related = ["campaign"]
    search_fields = ["name"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    fields = ["changed_at", "from_status", "to_status", "changed_by"]
    readonly_fields = fields
    can_delete = False


class ActivityInline(admin.TabularInline):
    model = OutreachActivity
    extra = 0
    fields = ["occurred_at", "kind", "user", "summary"]
    autocomplete_fields = ["user"]


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "campaign",
        "kind",
        "status",
        "assignee",
        "domain_rating",
        "next_follow_up",
    ]
    list_filter = ["kind", "status", "campaign"]
    list_select_related = ["campaign", "assignee"]
    search_fields = ["url", "domain", "contact_name", "contact_email", "notes"]
    autocomplete_fields = ["assignee", "offered_target", "tags"]
    readonly_fields = ["url_key", "domain", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [StatusChangeInline, ActivityInline]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["prospect", "from_status", "to_status", "changed_by", "changed_at"]
    list_filter = ["to_status"]
    list_select_related = ["prospect", "changed_by"]
    search_fields = ["prospect__url"]
    date_hierarchy = "changed_at"
    raw_id_fields = ["prospect"]


@admin.register(OutreachActivity)
class OutreachActivityAdmin(admin.ModelAdmin):
    list_display = ["prospect", "kind", "user", "occurred_at"]
    list_filter = ["kind"]
    list_select_related = ["prospect", "user"]
    search_fields = ["prospect__url", "summary"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["prospect"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """The import history, read-only: imports run from /imports/ or the CLI."""

    list_display = [
        "original_name",
        "campaign",
        "target",
        "state",
        "created_by",
        "created_at",
        "created_count",
        "updated_count",
        "duplicate_count",
        "rejected_count",
    ]
    list_filter = ["target", "state", "source", "campaign"]
    list_select_related = ["campaign", "created_by"]
    search_fields = ["original_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Outreach email. Mailboxes, templates and the do-not-contact list have their own
# pages (outreach/mailboxes/, campaigns/<slug>/templates/, outreach/do-not-contact/);
# here they are for looking things up. Passwords are never shown. (Imported here,
# apart from the imports above, so that merges with other branches stay simple.)

from django.urls import reverse  # noqa: E402
from django.utils.html import format_html  # noqa: E402

from outreach.models import (  # noqa: E402
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
