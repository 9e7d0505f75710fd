from django.urls import path

from outreach.journalist_queries import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="queries"),
    path("paste/", views.paste, name="paste"),
    path("poll/", views.poll_now, name="poll"),
    path("queries/<int:query_id>/prospect/", views.query_prospect, name="query_prospect"),
    path("queries/<int:query_id>/dismiss/", views.dismiss, name="dismiss"),
]
