"""Schemathesis' CLI against a live server with the two partner peers in ``[auth.wfc]``: no 5xx,
and its object-level authorization (BOLA) and ignored-auth checks on. The run is stateful, so
ids one partner reads are replayed as the other."""

from __future__ import annotations

import json
import os
import subprocess  # noqa: S404 - runs the schemathesis CLI of this environment
import sys
from pathlib import Path

import pytest

from api.throttling import AgencyRateThrottle
from tests.api.conftest import ALL_SCOPES, make_agreement, register

SCHEMA = Path(__file__).resolve().parents[2] / "api" / "schema.yaml"
EXAMPLES = os.environ.get("API_FUZZ_EXAMPLES", "10")
pytestmark = pytest.mark.django_db(transaction=True)


def test_schemathesis_cli_two_peers(live_server, partner, official, gov, ngo, place_a, place_b, tmp_path, monkeypatch):
    # The per-agency limits are tested in test_auth.py; here they would only starve the fuzzer.
    monkeypatch.setattr(AgencyRateThrottle, "THROTTLE_RATES", {"agency": "100000/min", "agency_write": "100000/min"})
    register(official, place_a)
    register(official, place_b, consent=True)
    tokens = {
        "gov": partner(make_agreement(gov, ALL_SCOPES, [place_a])).token,
        "un": partner(make_agreement(ngo, [s for s in ALL_SCOPES if s != "events:write"], [place_b],
                                     legal_basis="consent")).token,
    }
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auth": [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        for name, token in tokens.items()
    ]}))
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[auth.wfc]\npath = "{auth}"\npeers = ["gov", "un"]\n')
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(config), "run", str(SCHEMA),
        "--url", live_server.url, "--checks", "not_a_server_error,object_level_authorization,ignored_auth",
        "--max-examples", EXAMPLES, "--seed", os.environ.get("API_FUZZ_SEED", "1"), "--workers", "1", "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # noqa: S603
    assert result.returncode == 0, result.stdout[-6000:]
