"""Health probes (SECURITY.md RL-5): liveness touches nothing, readiness lists every check."""

from __future__ import annotations

import socket
import time

import pytest
from django.db import connections

CLOSED_PORT_HOST = "127.0.0.1"


def closed_port() -> int:
    """A local TCP port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((CLOSED_PORT_HOST, 0))
        return sock.getsockname()[1]


def assert_no_store(response) -> None:
    assert "no-store" in response["Cache-Control"]


def test_liveness_is_public_and_needs_no_database(client):
    """No db fixture: pytest-django raises on any database access, so a 200 proves none."""
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert_no_store(response)


def test_liveness_refuses_post(client):
    assert client.post("/health/").status_code == 405


@pytest.mark.django_db
def test_readiness_ok_lists_database_and_cache(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "cache": {"status": "ok"}},
    }
    assert_no_store(response)


@pytest.fixture
def broken_default_database(django_db_blocker):
    """Swap the default connection for one pointing at a closed port: a real refused connect."""
    original = connections["default"]
    broken_settings = {**original.settings_dict, "HOST": CLOSED_PORT_HOST}
    broken_settings["PORT"] = str(closed_port())
    broken = original.__class__(broken_settings, alias="default")
    connections["default"] = broken
    with django_db_blocker.unblock():
        yield
    broken.close()
    connections["default"] = original


def test_readiness_503_when_database_is_unreachable(client, settings, broken_default_database):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"status": "fail", "error": "OperationalError"}
    assert body["checks"]["cache"] == {"status": "ok"}
    assert CLOSED_PORT_HOST not in response.content.decode()
    assert_no_store(response)


@pytest.mark.django_db
def test_readiness_503_when_cache_is_unreachable(client, settings):
    """A Redis cache on a closed port fails the cache check; the body still has no address."""
    port = closed_port()
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{CLOSED_PORT_HOST}:{port}/0",
        }
    }
    response = client.get("/health/ready/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"] == {"status": "fail", "error": "ConnectionError"}
    assert checks["database"] == {"status": "ok"}
    assert str(port) not in response.content.decode()


@pytest.mark.django_db
def test_readiness_503_when_broker_port_is_closed(client, settings):
    port = closed_port()
    settings.CELERY_BROKER_URL = f"redis://{CLOSED_PORT_HOST}:{port}/0"
    started = time.monotonic()
    response = client.get("/health/ready/")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["status"] == "fail"
    assert checks["database"] == {"status": "ok"}
    assert CLOSED_PORT_HOST not in response.content.decode()
    assert str(port) not in response.content.decode()


@pytest.mark.django_db
def test_readiness_200_with_running_redis_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "cache": {"status": "ok"},
            "broker": {"status": "ok"},
        },
    }
