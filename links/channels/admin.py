from django.contrib import admin

from links.channels.models import AlertChannel, Delivery


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "campaign", "user", "enabled", "created_at"]
    list_filter = ["kind", "enabled"]
    list_select_related = ["campaign", "user"]
    raw_id_fields = ["campaign", "user", "created_by"]
    # The URL of Slack and Teams hooks is a credential; the secret is encrypted.
    exclude = ["url"]
    readonly_fields = ["created_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "event", "status", "attempts", "http_status"]
    list_filter = ["status", "event"]
    list_select_related = ["channel"]
    raw_id_fields = ["channel", "digest", "requested_by"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
