from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("campaigns/<slug:slug>/prospects/", views.prospect_list, name="prospect_list"),
    path("campaigns/<slug:slug>/prospects/bulk/", views.prospect_bulk, name="prospect_bulk"),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/", views.prospect_detail, name="prospect_detail"
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/status/",
        views.prospect_status,
        name="prospect_status",
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/activity/",
        views.prospect_activity,
        name="prospect_activity",
    ),
]
