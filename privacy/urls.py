"""Routes of the rights register and retention pages (included at /privacy/)."""

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<uuid:pk>/", views.request_detail, name="request"),
    path("requests/<uuid:pk>/rectify/", views.request_rectify, name="request_rectify"),
    path("requests/<uuid:pk>/export.<str:fmt>", views.request_export, name="request_export"),
    path("requests/<uuid:pk>/<slug:action>/", views.request_action, name="request_action"),
    path("retention/", views.retention_runs, name="retention"),
]
