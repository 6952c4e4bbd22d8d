"""Production configuration and error answers (SECURITY.md CF-2, LG-4, RL-5).

* No debug tooling and no cross-origin access: CORS is not installed, so no response ever
  carries ``Access-Control-Allow-Origin``, whatever ``Origin`` a browser sends.
* A forced 500 with DEBUG off is the generic page: no traceback, no setting, no personal data;
  under ``/api/`` it is problem JSON.
* The database unreachable during a request is a 503 with ``Retry-After`` (``handler500`` in
  config/middleware.py), not a 500; the real process-level outage is in test_faults.py.
"""

from __future__ import annotations

import socket

import pytest
from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from config.middleware import server_error
from tests.conftest import verified_client

SECRET_NAME = "Canary Ñandú Zorvalinqua"


def boom(request):
    raise RuntimeError(f"crash while handling {SECRET_NAME}")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("api/boom/", boom), path("fine/", fine)]
handler500 = server_error


def test_no_debug_tooling_in_installed_apps_or_middleware():
    tooling = ("debug_toolbar", "django_extensions", "silk")
    assert not [app for app in settings.INSTALLED_APPS if app.startswith(tooling)]
    assert not [mw for mw in settings.MIDDLEWARE if mw.startswith(tooling)]


def test_production_process_has_debug_off(production):
    assert production["DEBUG"] is False
    assert production["MFA_REQUIRED"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("path_", ["/accounts/login/", "/api/", "/health/ready/"])
def test_no_cross_origin_access_is_granted(client, path_):
    response = client.get(path_, HTTP_ORIGIN="https://evil.example", secure=True)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.urls("tests.security.test_configuration")
def test_forced_500_is_generic_and_names_nothing(db, settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Traceback" not in body and "RuntimeError" not in body and "Zorvalinqua" not in body
    assert settings.SECRET_KEY not in body


@pytest.mark.urls("tests.security.test_configuration")
def test_forced_500_under_api_is_problem_json(db, settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/api/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 500
    assert "Zorvalinqua" not in response.content.decode()


@pytest.mark.django_db
def test_database_unreachable_is_503_for_pages_and_problem_json_for_the_api(make_user):
    user = make_user("registrar")
    client = verified_client(user, Client(raise_request_exception=False))
    assert client.get("/").status_code == 200
    original = connections["default"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connections["default"] = original.__class__(
        {**original.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}, alias="default"
    )
    try:
        page = client.get("/")
        api = client.get("/api/v1/places/", HTTP_ACCEPT="application/json")
    finally:
        connections["default"].close()
        connections["default"] = original
    assert page.status_code == 503 and page["Retry-After"]
    assert "no-store" in page["Cache-Control"]
    assert (
        "OperationalError" not in page.content.decode() and str(port) not in page.content.decode()
    )
    assert api.status_code == 503 and api["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == 503
    assert client.get("/").status_code == 200  # the same client, no restart: back at once
