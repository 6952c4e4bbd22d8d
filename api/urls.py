"""Partner API routes: ``/api/v1/`` (namespace ``v1``: NamespaceVersioning), the OAuth2 token
endpoints and the schema with its offline docs (authentication required).

Report runs (``reports:read``): request, progress and download (``api.views.reports``).
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api import oauth_views
from api.views.other import PermitVerifyViewSet, StatisticsViewSet, WebhookEndpointViewSet
from api.views.reports import ReportRunViewSet
from api.views.resources import EventViewSet, PersonViewSet, PlaceViewSet, RegistrationViewSet

router = SimpleRouter()
router.register("places", PlaceViewSet, basename="place")
router.register("persons", PersonViewSet, basename="person")
router.register("registrations", RegistrationViewSet, basename="registration")
router.register("events", EventViewSet, basename="event")
router.register("report-runs", ReportRunViewSet, basename="report-run")

v1_patterns = [
    *router.urls,
    path("statistics/", StatisticsViewSet.as_view({"get": "list"}), name="statistics"),
    path("statistics/hxl/", StatisticsViewSet.as_view({"get": "hxl"}), name="statistics-hxl"),
    path("permits/verify/", PermitVerifyViewSet.as_view({"post": "create"}), name="permit-verify"),
    path("webhook-endpoint/", WebhookEndpointViewSet.as_view({"get": "retrieve", "put": "update"}), name="webhook-endpoint"),
    path("report-runs/<uuid:pk>/files/<str:fmt>/", ReportRunViewSet.as_view({"get": "file"}), name="report-run-file"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="v1:schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="v1:schema"), name="redoc"),
]

urlpatterns = [
    path("v1/", include((v1_patterns, "api"), namespace="v1")),
    path("oauth/token/", oauth_views.TokenView.as_view(), name="oauth-token"),
    path("oauth/revoke/", oauth_views.RevokeTokenView.as_view(), name="oauth-revoke"),
]
