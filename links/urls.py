from django.urls import path

from links import views

app_name = "links"

campaign = "campaigns/<slug:slug>"

urlpatterns = [
    path(f"{campaign}/backlinks/", views.backlink_list, name="backlink_list"),
    path(f"{campaign}/backlinks/<int:pk>/", views.backlink_detail, name="backlink_detail"),
    path(f"{campaign}/backlinks/<int:pk>/row/", views.backlink_row, name="backlink_row"),
    path(
        f"{campaign}/backlinks/<int:pk>/recheck/", views.backlink_recheck, name="backlink_recheck"
    ),
    # Under the prospect's URL, because it is that prospect's won link; a links
    # view, because recording a backlink is the links app's job.
    path(f"{campaign}/prospects/<int:pk>/won/", views.mark_won, name="mark_won"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/read/", views.alert_read, name="alert_read"),
    path("alerts/read-all/", views.alert_read_all, name="alert_read_all"),
]
