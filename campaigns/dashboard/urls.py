from django.urls import path

from campaigns.dashboard import views
from links import export_views as backlink_exports
from outreach import export_views as prospect_exports

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<slug:slug>/", views.campaign_detail, name="detail"),
    path("<slug:slug>/compare/", views.campaign_comparison, name="comparison"),
    path("<slug:slug>/dashboard/", views.campaign_dashboard, name="dashboard"),
    path(
        "<slug:slug>/dashboard/<slug:panel>/",
        views.campaign_dashboard_panel,
        name="dashboard_panel",
    ),
    path(
        "<slug:slug>/prospects/export.csv", prospect_exports.prospects_csv, name="prospects_export"
    ),
    path(
        "<slug:slug>/backlinks/export.csv", backlink_exports.backlinks_csv, name="backlinks_export"
    ),
]
