from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from campaigns.accounts import PasswordResetConfirmView
from campaigns.dashboard.home import home, my_day
from links import export_views as backlink_exports
from links import urls as links_urls
from links.views import about_bot
from outreach import export_views as prospect_exports

admin.site.site_header = "Anchorage administration"
admin.site.site_title = "Anchorage admin"

# The XLSX downloads keep their own namespace beside the dashboard's CSV routes;
# each view lives with the model it exports.
export_urls = [
    path(
        "<slug:slug>/prospects/export.xlsx", prospect_exports.prospects_xlsx, name="prospects_xlsx"
    ),
    path(
        "<slug:slug>/backlinks/export.xlsx", backlink_exports.backlinks_xlsx, name="backlinks_xlsx"
    ),
]

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
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            # The link names the configured site, never the Host header a
            # stranger sent with the request.
            extra_email_context={"site_url": settings.SITE_URL},
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("campaigns/", include("campaigns.dashboard.urls")),
    path("dashboard/", include("campaigns.dashboard.overview_urls")),
    path("", include("outreach.urls")),
    # My day reads outreach and links, so its view lives in campaigns.dashboard,
    # which only this URLconf may import; it keeps its name in the links namespace.
    path(
        "",
        include(
            ([path("my-day/", my_day, name="my_day"), *links_urls.urlpatterns], links_urls.app_name)
        ),
    ),
    path("campaigns/", include((export_urls, "exports"))),
    path("imports/", include("outreach.imports.urls")),
    path("prospecting/", include("links.prospecting.urls")),
    path("inbox/", include("outreach.journalist_queries.urls")),
    path("api/v1/", include("api.urls")),
    path("accounts/tokens/", include("api.token_urls")),
    # A campaign's alert channels and each user's own (links.channels).
    path("", include("links.channels.urls")),
    path("admin/", admin.site.urls),
]
