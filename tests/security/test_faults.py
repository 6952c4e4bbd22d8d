"""Fault tests (SECURITY.md RL-1, RL-5; issue 8 "Proof").

* **Broker stopped during registrations**: a private ``redis-server`` (its own port, never the
  shared 6379) is the Celery broker. It is stopped, people are registered through the services,
  each registration is accepted at once; the outbox relay reports the outage without raising;
  the broker comes back, the relay publishes every message, a real worker runs the duplicate
  scan of every person exactly once, and a second relay publishes nothing. None lost.
* **PostgreSQL unavailable during requests**: a real app process (``runserver``) talks to the
  test database through a TCP proxy owned by the test. Stopping the proxy drops every open
  connection and refuses new ones — what the app sees while PostgreSQL restarts — without
  touching the shared cluster. Requests get a clean 503 (``Retry-After``, no traceback, problem
  JSON under ``/api/``), liveness stays 200, and once the proxy is back the *same* process
  answers 200 again: no restart.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from config.celery import app as celery_app
from privacy import outbox
from privacy.models import ConsumedMessage, OutboxMessage
from registry.models import Person, Registration
from registry.tasks import SCAN_DUPLICATES
from tests.conftest import verified_client
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.privacy.conftest import RedisServer
from tests.registry.factories import register_person

ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgres")
REGISTRATIONS = 20


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


# --- Broker outage (RL-1) ------------------------------------------------------------------------
def _reset_broker_pools() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker(settings):
    """A private redis-server as the (non-eager) broker of Django settings and the Celery app."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.broker_url = server.url
    celery_app.conf.task_always_eager = False
    _reset_broker_pools()
    yield server
    celery_app.conf.update(saved)
    _reset_broker_pools()
    server.stop()


def _close_worker_connection(**kwargs) -> None:
    """The worker thread's database connection must not outlive the test database."""
    connection.close()


@pytest.mark.worker
def test_registrations_during_a_broker_outage_are_accepted_and_all_delivered_later(
    transactional_db, private_broker, make_user
):
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    private_broker.stop()

    slowest = 0.0
    for _ in range(REGISTRATIONS):
        started = time.monotonic()
        register_person(
            registrar, place
        )  # services.register: its own transaction, with the outbox row
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < 2, f"a registration waited {slowest:.2f} s on the dead broker"
    print(f"broker down: slowest of {REGISTRATIONS} registrations {slowest:.3f} s")  # noqa: T201 - figure for -rP
    assert Registration.objects.count() == REGISTRATIONS
    people = {str(pk) for pk in Person.objects.values_list("pk", flat=True)}
    pending = OutboxMessage.objects.filter(task_name=SCAN_DUPLICATES, published_at__isnull=True)
    assert {m.kwargs["person_id"] for m in pending} == people

    started = time.monotonic()
    assert outbox.relay() == 0  # broker down: reported, not raised, and quick
    assert time.monotonic() - started < 5
    assert pending.count() == REGISTRATIONS  # nothing lost, nothing marked sent

    private_broker.start()
    assert outbox.relay() >= REGISTRATIONS
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()
    messages = {str(m.pk) for m in OutboxMessage.objects.filter(task_name=SCAN_DUPLICATES)}
    assert len(messages) == REGISTRATIONS

    task_postrun.connect(_close_worker_connection, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            consumed = ConsumedMessage.objects.filter(message_id__in=messages)
            assert wait_for(lambda: consumed.count() == REGISTRATIONS, timeout=60)
            assert outbox.relay() == 0  # a second relay publishes nothing
    finally:
        task_postrun.disconnect(_close_worker_connection)
    assert (
        ConsumedMessage.objects.filter(message_id__in=messages).count() == REGISTRATIONS
    )  # once each


# --- Database outage (RL-5) ----------------------------------------------------------------------
class TcpProxy:
    """Forwards a local port to PostgreSQL; ``stop()`` refuses and drops every connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
            listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to check, not to follow


OPENER = urllib.request.build_opener(NoRedirect)


def http_get(url: str, cookie: str = "", accept: str = "text/html") -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept": accept})  # noqa: S310 - local server
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def app_behind_proxy(transactional_db):
    """A real app process whose only way to PostgreSQL is the proxy; yields (base_url, proxy)."""
    db = connection.settings_dict
    proxy = TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    proxy.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}{password}@127.0.0.1:{proxy.port}/{db['NAME']}",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "*",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "CONN_MAX_AGE": "60",  # persistent connections: the outage must break a live one
        # The same cookie name as this process, so its session cookie is understood there.
        "SECURE_COOKIES": "true" if settings.SESSION_COOKIE_SECURE else "false",
    }
    command = [
        sys.executable,
        "manage.py",
        "runserver",
        "--noreload",
        "--skip-checks",
        f"127.0.0.1:{port}",
    ]
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _answers(base), timeout=90), "the app process did not start"
        yield base, proxy
    finally:
        process.terminate()
        process.wait(timeout=20)
        proxy.stop()
        connections.close_all()


def _answers(base: str) -> bool:
    try:
        return http_get(base + "/health/")[0] == 200
    except OSError:
        return False


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the outage is simulated in front of PostgreSQL")
def test_database_outage_gives_clean_503_then_recovers_without_restart(app_behind_proxy, make_user):
    base, proxy = app_behind_proxy
    user = make_user("registrar")
    client = verified_client(user, Client())
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    status, _, _ = http_get(base + "/", cookie)
    assert status == 200, "the signed-in start page works before the outage"
    assert http_get(base + "/health/ready/")[0] == 200
    registrations = Registration.objects.count()

    proxy.stop()  # PostgreSQL "restarts": live connections dropped, new ones refused
    latencies = []
    for path, accept in (
        ("/", "text/html"),
        ("/people/", "text/html"),
        ("/api/v1/places/", "application/json"),
    ):
        started = time.monotonic()
        status, headers, body = http_get(base + path, cookie, accept)
        assert status == 503, (path, status)
        latencies.append(time.monotonic() - started)
        assert latencies[-1] < 15
        assert headers.get("Retry-After")
        assert "no-store" in headers.get("Cache-Control", "")
        assert (
            "Traceback" not in body
            and "OperationalError" not in body
            and str(proxy.port) not in body
        )
        if path.startswith("/api/"):
            assert json.loads(body)["status"] == 503
    status, _, body = http_get(base + "/health/ready/")
    assert status == 503 and json.loads(body)["checks"]["database"]["status"] == "fail"
    assert http_get(base + "/health/")[0] == 200  # liveness: the process itself is fine

    proxy.start()  # PostgreSQL is back; the app process was never restarted
    started = time.monotonic()
    assert wait_for(lambda: http_get(base + "/", cookie)[0] == 200, timeout=30)
    recovery = time.monotonic() - started
    assert recovery < 10, f"recovered in {recovery:.1f} s"
    print(f"database down: slowest 503 {max(latencies):.2f} s; back: first 200 after {recovery:.2f} s")  # noqa: T201 - figure for -rP
    assert http_get(base + "/health/ready/")[0] == 200
    assert Registration.objects.count() == registrations  # nothing half-written
