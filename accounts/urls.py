app_name = "accounts"
from django.urls import path  # noqa: F401

urlpatterns: list = []
