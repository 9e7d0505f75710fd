from django.contrib import admin

from links.prospecting.models import BacklinkExport, BrokenLinkScan


@admin.register(BrokenLinkScan)
class BrokenLinkScanAdmin(admin.ModelAdmin):
    list_display = ["pk", "campaign", "state", "pages_total", "links_checked", "dead_count",
                    "created_at"]  # fmt: skip
    list_filter = ["state"]
    list_select_related = ["campaign"]


@admin.register(BacklinkExport)
class BacklinkExportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "campaign", "competitor", "is_ours", "domain_count",
                    "uploaded_at"]  # fmt: skip
    list_select_related = ["campaign"]
