from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from links.views import about_bot, home

admin.site.site_header = "Anchorage administration"
admin.site.site_title = "Anchorage admin"

urlpatterns = [
    path("", home, name="home"),
    # No trailing slash: the crawler's User-Agent names this exact URL.
    path("about/bot", about_bot, name="about_bot"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("campaigns/", include("campaigns.dashboard.urls")),
    path("dashboard/", include("campaigns.dashboard.overview_urls")),
    path("", include("outreach.urls")),
    path("", include("links.urls")),
    path("campaigns/", include("links.export_urls")),
    path("imports/", include("outreach.imports.urls")),
    path("prospecting/", include("links.prospecting.urls")),
    path("inbox/", include("outreach.inbox.urls")),
    path("admin/", admin.site.urls),
]
