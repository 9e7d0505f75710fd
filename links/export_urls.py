"""XLSX export downloads, under /campaigns/<slug>/. Included beside the
dashboard's URLconf; these paths never collide with its patterns."""

from django.urls import path

from links import export_views
from outreach import export_views as outreach_export_views

app_name = "exports"

urlpatterns = [
    path(
        "<slug:slug>/prospects/export.xlsx",
        outreach_export_views.prospects_xlsx,
        name="prospects_xlsx",
    ),
    path("<slug:slug>/backlinks/export.xlsx", export_views.backlinks_xlsx, name="backlinks_xlsx"),
]
