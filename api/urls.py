from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from api import views
from api.docs import ApiDocsView

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("target-pages", views.TargetPageViewSet, basename="targetpage")
router.register("prospects", views.ProspectViewSet, basename="prospect")
router.register("backlinks", views.BacklinkViewSet, basename="backlink")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("imports", views.ImportViewSet, basename="importjob")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
