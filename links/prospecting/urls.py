from django.urls import path

from links.prospecting import views

app_name = "prospecting"

urlpatterns = [
    path("<slug:slug>/broken-links/", views.scan_list, name="scan_list"),
    path("<slug:slug>/broken-links/<int:scan_id>/", views.scan_detail, name="scan_detail"),
    path(
        "<slug:slug>/broken-links/<int:scan_id>/progress/",
        views.scan_progress,
        name="scan_progress",
    ),
    path("<slug:slug>/broken-links/<int:scan_id>/cancel/", views.scan_cancel, name="scan_cancel"),
    path(
        "<slug:slug>/dead-links/<int:link_id>/prospect/",
        views.dead_link_prospect,
        name="dead_link_prospect",
    ),
    path(
        "<slug:slug>/prospects/<int:prospect_id>/recheck-dead-link/",
        views.recheck_dead_link,
        name="recheck_dead_link",
    ),
    path(
        "<slug:slug>/prospects/<int:prospect_id>/dead-link-checks/<int:check_id>/",
        views.dead_link_check,
        name="dead_link_check",
    ),
    path("<slug:slug>/link-gap/", views.link_gap, name="link_gap"),
    path("<slug:slug>/link-gap/upload/", views.link_gap_upload, name="link_gap_upload"),
    path("<slug:slug>/link-gap/exports/", views.link_gap_exports, name="link_gap_exports"),
    path("<slug:slug>/link-gap/prospects/", views.link_gap_prospects, name="link_gap_prospects"),
    path(
        "<slug:slug>/link-gap/exports/<int:export_id>/delete/",
        views.link_gap_delete_export,
        name="link_gap_delete_export",
    ),
]
