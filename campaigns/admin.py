from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from campaigns.models import Campaign, Membership, TargetPage, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    fieldsets = [
        *BaseUserAdmin.fieldsets[:2],
        ("Role", {"fields": ["role", "is_active"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "role", "password1", "password2"]}),
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class TargetPageInline(admin.TabularInline):
    model = TargetPage
    extra = 1
    fields = ["url", "is_domain", "title", "keywords", "priority"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "site", "owner", "status", "goal_links", "goal_date"]
    list_filter = ["status"]
    list_select_related = ["owner"]
    search_fields = ["name", "slug", "site"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["owner"]
    inlines = [TargetPageInline, MembershipInline]


@admin.register(TargetPage)
class TargetPageAdmin(admin.ModelAdmin):
    list_display = ["url", "campaign", "is_domain", "priority"]
    list_filter = ["is_domain", "priority", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["url", "title", "keywords"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "campaign", "joined_at"]
    list_filter = ["campaign"]
    list_select_related = ["user", "campaign"]
    search_fields = ["user__username", "campaign__name"]
    autocomplete_fields = ["user", "campaign"]
