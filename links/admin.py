from django.contrib import admin

from links.models import Alert, Backlink, LinkCheck


@admin.register(Backlink)
class BacklinkAdmin(admin.ModelAdmin):
    list_display = [
        "source_url",
        "target_url",
        "campaign",
        "state",
        "last_checked_at",
        "next_check_at",
    ]
    list_filter = ["state", "last_verdict", "noindex", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["source_url", "target_url", "expected_anchor_text", "source_domain"]
    raw_id_fields = ["prospect", "target_page", "won_by"]
    readonly_fields = ["source_url_key", "source_domain", "target_url_key", "created_at"]
    date_hierarchy = "won_on"


@admin.register(LinkCheck)
class LinkCheckAdmin(admin.ModelAdmin):
    list_display = ["backlink", "checked_at", "verdict", "http_status", "duration_ms"]
    list_filter = ["verdict"]
    list_select_related = ["backlink"]
    search_fields = ["backlink__source_url", "final_url"]
    raw_id_fields = ["backlink"]
    date_hierarchy = "checked_at"
    show_full_result_count = False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "campaign", "backlink", "created_at", "read_at", "mailed_at"]
    list_filter = ["kind", "campaign"]
    list_select_related = ["campaign", "backlink"]
    search_fields = ["message", "backlink__source_url"]
    raw_id_fields = ["backlink"]
    date_hierarchy = "created_at"
