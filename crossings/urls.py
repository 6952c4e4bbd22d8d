"""Place pages, mounted at /places/ by config/urls.py."""

from django.urls import path

from crossings import views

app_name = "crossings"

urlpatterns = [
    path("", views.place_list, name="list"),
    path("map/", views.place_map, name="map"),
    path("map/data.json", views.map_data, name="map-data"),
    path("<str:code>/", views.place_detail, name="detail"),
]
