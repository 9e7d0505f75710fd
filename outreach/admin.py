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

    # The history is append-only: the funnel's furthest step (a trigger on new
    # rows) never looks back at an edited or deleted one.
    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


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


# Outreach email's admin lives with the rest of it; importing it registers it.
import outreach.email.admin  # noqa: E402, F401
