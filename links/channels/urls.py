from django.urls import path

from links.channels import views

app_name = "alert_channels"

campaign = "campaigns/<slug:slug>/alert-channels"
mine = "accounts/alert-channels"

urlpatterns = [
    path(f"{campaign}/", views.campaign_list, name="campaign_list"),
    path(f"{campaign}/new/", views.campaign_create, name="campaign_create"),
    path(f"{campaign}/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path(f"{campaign}/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path(f"{campaign}/<int:pk>/test/", views.campaign_test, name="campaign_test"),
    path(f"{campaign}/<int:pk>/secret/", views.campaign_secret, name="campaign_secret"),
    path(f"{mine}/", views.my_list, name="my_list"),
    path(f"{mine}/new/", views.my_create, name="my_create"),
    path(f"{mine}/<int:pk>/", views.my_detail, name="my_detail"),
    path(f"{mine}/<int:pk>/delete/", views.my_delete, name="my_delete"),
    path(f"{mine}/<int:pk>/test/", views.my_test, name="my_test"),
    path(f"{mine}/<int:pk>/secret/", views.my_secret, name="my_secret"),
]
