"""The committed OpenAPI schema is current, served only with authentication (docs offline),
and the API conforms to it under generated input from two partner identities (schemathesis; the
object-level authorization run against a live server is in test_schemathesis_live.py)."""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.api.conftest import ALL_SCOPES, make_agreement, register

SCHEMA = Path(__file__).resolve().parents[2] / "api" / "schema.yaml"
# More generated cases per operation for a deeper run: API_FUZZ_EXAMPLES=200 pytest -k schemathesis
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
pytestmark = pytest.mark.django_db


def test_committed_schema_is_current(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--api-version", "v1", "--file", str(target), stderr=io.StringIO())
    assert target.read_text() == SCHEMA.read_text(), "api/schema.yaml is stale: run `make schema` (see docs/api.md)"


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"])
def test_schema_and_docs_need_authentication(url, partner, gov, place_a):
    assert APIClient().get(url).status_code == 401
    api = partner(make_agreement(gov, ["places:read"], [place_a]))
    response = api.get(url)
    assert response.status_code == 200
    if url != "/api/v1/schema/":
        html = response.content.decode()
        assert "drf_spectacular_sidecar" in html  # served from our static files, no CDN
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


@contextmanager
def in_process_wsgi():
    """Keep the test's database connection across in-process WSGI calls, as Django's test client
    does (the handler would close it after each request). Entered after the last test-client
    call: the test client reconnects the receiver after each of its own requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _two_partners(partner, official, gov, ngo, place_a, place_b) -> dict[str, str]:
    """Two partner peers: a government agreement at place A (every scope) and a consent-based
    UN agreement at place B; each has someone registered at its place."""
    register(official, place_a)
    register(official, place_b, consent=True)
    return {
        "gov": partner(make_agreement(gov, ALL_SCOPES, [place_a])).token,
        "un": partner(make_agreement(ngo, [s for s in ALL_SCOPES if s != "events:write"], [place_b],
                                     legal_basis="consent")).token,
    }


def test_schemathesis_two_partners(partner, official, gov, ngo, place_a, place_b):
    """No 5xx and responses that match the schema, for generated input under each identity."""
    tokens = _two_partners(partner, official, gov, ngo, place_a, place_b)
    with in_process_wsgi() as app:
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app,
                                                headers={"Authorization": f"Bearer {tokens['gov']}"})
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        for token in tokens.values():
            for operation in operations:
                _exercise(operation, token)


def _exercise(operation, token) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    run()
