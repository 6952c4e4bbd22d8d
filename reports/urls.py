"""Reports under /reports/ (analysts and supervisors)."""

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.request_report, name="request"),
    path("runs/<uuid:run_id>/", views.run_detail, name="detail"),
    path("runs/<uuid:run_id>/status/", views.run_status, name="status"),
    path("runs/<uuid:run_id>/download/<str:fmt>/", views.download, name="download"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/data.json", views.dashboard_json, name="dashboard-data"),
]
