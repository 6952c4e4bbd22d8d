"""Liveness and readiness probes (SECURITY.md RL-5).

``/health/`` says the process answers; it touches nothing else. ``/health/ready/`` runs each
dependency check and lists them by name: 200 when all pass, 503 when any fails, never a 500.
The body names checks and exception classes only: no hosts, URLs or error messages (those go
to the log, where operators can see them).

Why not django-health-check's view: it answers 500 on failure, keys its JSON by each check's
``repr`` (the Redis check's repr carries host and port), and has no plain broker check (its
Celery check pings workers and needs a result backend, which Frontera does not use).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

logger = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2
JSON = "application/json; charset=utf-8"  # CF-1: every response names its charset


def check_database() -> None:
    """Run a real query under a short statement timeout (PostgreSQL) on the default database."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL statement_timeout = %s", [CHECK_TIMEOUT_SECONDS * 1000])
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected result from SELECT 1")


def check_cache() -> None:
    """Write, read back and delete a unique key in the default cache."""
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=CHECK_TIMEOUT_SECONDS * 5)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("cache did not return the value just written")
    finally:
        cache.delete(key)


def check_broker() -> None:
    """Open (and close) one connection to the Celery broker, giving up after ~2 seconds."""
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_SECONDS)


def readiness_checks() -> dict[str, Callable[[], None]]:
    """The checks to run, by name; the broker only when one is configured."""
    checks: dict[str, Callable[[], None]] = {"database": check_database, "cache": check_cache}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = check_broker
    return checks


def run_check(name: str, check: Callable[[], None]) -> dict[str, str]:
    """Run one check; any exception is a failure reported by class name only."""
    try:
        check()
    except Exception as exc:  # a probe must answer, whatever broke
        logger.warning("health_check_failed", check=name, error=type(exc).__name__)
        return {"status": "fail", "error": type(exc).__name__}
    return {"status": "ok"}


@require_safe
@never_cache
@transaction.non_atomic_requests
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. No database, cache or broker access."""
    return JsonResponse({"status": "ok"}, content_type=JSON)


@require_safe
@never_cache
@transaction.non_atomic_requests
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: every dependency answers. 200 when all checks pass, 503 otherwise."""
    results = {name: run_check(name, check) for name, check in readiness_checks().items()}
    healthy = all(result["status"] == "ok" for result in results.values())
    body = {"status": "ok" if healthy else "fail", "checks": results}
    return JsonResponse(body, status=200 if healthy else 503, content_type=JSON)
