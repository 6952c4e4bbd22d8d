"""Health probes, mounted at /health/. Public on purpose: load balancers and orchestrators call them."""

from django.urls import path

from config import health

urlpatterns = [
    path("", health.live, name="health-live"),
    path("ready/", health.ready, name="health-ready"),
]
