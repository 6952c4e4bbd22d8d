"""The public card check, mounted at /verify/ by config/urls.py (no login: checkpoints and
employers scan cards with any phone)."""

from django.urls import path

from transit.views import verify

app_name = "transit_verify"

urlpatterns = [
    path("<str:token>/", verify.verify, name="verify"),
]
