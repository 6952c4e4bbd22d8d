app_name = "crossings"
from django.urls import path  # noqa: F401

urlpatterns: list = []
