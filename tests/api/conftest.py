"""Partner API fixtures: places, agencies, agreements, clients made by the real command, tokens
from the real token endpoint, and people registered through the registry's services."""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import DataSharingAgreement
from registry import services as registry_services
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory

_refs = itertools.count()
ALL_SCOPES = [
    "stats:read", "places:read", "persons:read:pseudonymous", "events:read", "events:write", "permits:verify",
    "webhooks",
]


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.MFA_REQUIRED = True
    # Fast hashing for client secrets in tests (production keeps Django's default PBKDF2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.API_WEBHOOK_ALLOW_LOCAL_HTTP = True
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    from django.core.cache import cache

    cache.clear()  # throttle counters


@pytest.fixture
def place_a(db):
    return PlaceFactory(code="API-A", name="Puente A", country="MX", state_code="MX-CHP", time_zone="America/Mexico_City")


@pytest.fixture
def place_b(db):
    return PlaceFactory(code="API-B", name="Puesto B", country="MX", state_code="MX-TAB", time_zone="America/Mexico_City")


@pytest.fixture
def place_far(db):
    return PlaceFactory(code="API-FAR", name="Paso lejano", country="GT", state_code="", time_zone="America/Guatemala")


@pytest.fixture
def gov(db):
    return AgencyFactory(code="inm-api", name="INM API", kind="government")


@pytest.fixture
def ngo(db):
    return AgencyFactory(code="acnur-api", name="ACNUR API", kind="un", country="")


@pytest.fixture
def official(make_user, gov, place_a, place_b, place_far):
    """A supervisor posted at every place, who registers the people partners will see."""
    return make_user("supervisor", places=[place_a, place_b, place_far], agency=gov)


def make_agreement(agency, scopes, places=(), *, legal_basis="public_interest", fields=None, status="active",
                   valid_until=None, countries=()) -> DataSharingAgreement:
    today = timezone.localdate()
    agreement = DataSharingAgreement.objects.create(
        reference=f"dsa-{next(_refs)}", agency=agency, purpose="Protección y asistencia", legal_basis=legal_basis,
        scopes=list(scopes), allowed_fields=fields or {}, countries=list(countries), status=status,
        valid_from=today - dt.timedelta(days=30), valid_until=valid_until or today + dt.timedelta(days=365),
    )
    agreement.full_clean()
    agreement.places.set(places)
    return agreement


def create_client(agreement, scopes=None, allowed_ips=(), *, name_agreement=True) -> tuple[str, str]:
    """Run ``create_partner_client`` and read the id and secret it prints once (without
    ``--agreement`` when ``name_agreement`` is false, as docs/api.md shows)."""
    out = io.StringIO()
    args = ["--agency", agreement.agency.code, "--scopes", " ".join(scopes or agreement.scopes)]
    if name_agreement:
        args += ["--agreement", agreement.reference]
    for net in allowed_ips:
        args += ["--allowed-ip", net]
    call_command("create_partner_client", *args, stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines() if "=" in line)
    return lines["client_id"], lines["client_secret"]


def request_token(client_id: str, secret: str, scope: str | None = None, remote_addr: str = "127.0.0.1"):
    """POST the client-credentials grant to the real token endpoint (HTTP Basic)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return Client().post("/api/oauth/token/", urlencode(data), content_type="application/x-www-form-urlencoded",
                         HTTP_AUTHORIZATION=f"Basic {basic}", REMOTE_ADDR=remote_addr)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def partner():
    """partner(agreement, scopes=None) -> an APIClient with a fresh token from the token endpoint."""

    def _make(agreement, scopes=None, token_scope=None, allowed_ips=(), name_agreement=True):
        client_id, secret = create_client(agreement, scopes, allowed_ips, name_agreement=name_agreement)
        response = request_token(client_id, secret, token_scope)
        assert response.status_code == 200, response.content
        api = bearer(response.json()["access_token"])
        api.token = response.json()["access_token"]
        api.client_id, api.secret = client_id, secret
        return api

    return _make


def register(official, place, *, consent=False, submit=True, nationality="GT", sex="f", birth_year=1990):
    """A person registered (and submitted) at ``place`` through the registry's services."""
    data = {"given_names": "Ana", "first_surname": "López", "sex": sex, "nationality": nationality,
            "birth_precision": "year", "birth_year": birth_year}
    registration = registry_services.register(
        official, place=place, person_data=data, legal_basis="consent" if consent else "public_interest",
        consent_purposes=["partner_sharing"] if consent else [],
    )
    if submit:
        registration = registry_services.submit(official, registration)
    return registration


class Receiver:
    """A local HTTP server on 127.0.0.1 that records deliveries; ``fail_next`` answers 500."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
