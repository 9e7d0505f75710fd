"""/dashboard/: every campaign a manager sees, on one page."""

from django.urls import path

from campaigns.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.all_campaigns_dashboard, name="all"),
    path("<slug:panel>/", views.all_campaigns_dashboard_panel, name="panel"),
]
