from django.urls import path

from outreach.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="history"),
    path("new/", views.upload, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/rejected.csv", views.rejected_rows, name="rejected"),
]
