"""Structured logs (SECURITY.md LG-4): one JSON object per line, a request id, no personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from tests.security.production import production_env, run_python

INJECTED_USERNAME = 'María Pérez\r\nFAKE {"level": "critical", "event": "admin_login"}'
PASSWORD = "Tr0ub4dor&3-ganso-azul"
PERSONAL_FRAGMENTS = ["María", "Pérez", "Maria", "Perez", "FAKE", PASSWORD]


@pytest.fixture
def json_log():
    """Capture every log record through the project's own JSON formatter (settings.LOGGING)."""
    config = dict(settings.LOGGING["formatters"]["json"])
    formatter = config.pop("()")(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)


def parsed_lines(stream: io.StringIO) -> list[dict]:
    """Every captured line, each parsed as one JSON object (fails on any non-JSON line)."""
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]


def test_json_logs_are_the_default_with_debug_off():
    """Read from a fresh production-like process: the test shell may export DEBUG=true."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.LOG_JSON, s.LOGGING['handlers']['stdout']['formatter'], "
        "s.DJANGO_STRUCTLOG_IP_LOGGING_ENABLED]))"
    )
    result = run_python(["-c", code], production_env())
    assert result.returncode == 0, result.stderr
    log_json, formatter, ip_logging = json.loads(result.stdout.strip().splitlines()[-1])
    assert log_json is True
    assert formatter == "json"
    assert ip_logging is False


@pytest.mark.django_db
def test_request_logs_are_json_with_one_request_id_and_no_ip(client, json_log):
    client.get("/health/ready/", REMOTE_ADDR="203.0.113.7")
    events = {entry["event"]: entry for entry in parsed_lines(json_log)}
    started, finished = events["request_started"], events["request_finished"]
    assert started["request_id"] == finished["request_id"]
    assert len(started["request_id"]) == 36
    assert finished["code"] == 200
    assert "ip" not in started and "ip" not in finished
    assert "203.0.113.7" not in json_log.getvalue()


@pytest.mark.django_db
def test_failed_login_logs_no_personal_data_and_cannot_forge_lines(
    client, json_log, caplog
):
    caplog.set_level(logging.DEBUG)
    response = client.post(
        "/accounts/login/", {"username": INJECTED_USERNAME, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 200  # the form comes back with an error
    assert AccessAttempt.objects.count() == 1  # the failure went through django-axes' logging
    entries = parsed_lines(json_log)
    assert any(entry["event"] == "request_finished" for entry in entries)
    assert not any(entry.get("event") == "admin_login" for entry in entries)
    captured = json_log.getvalue() + caplog.text
    for fragment in PERSONAL_FRAGMENTS:
        assert fragment not in captured


def test_crlf_in_a_logged_value_stays_one_json_line():
    """The real stdout handler of a fresh process: one event, one line, the value escaped."""
    log_call = f"warning('login_failed', username={INJECTED_USERNAME!r})"
    code = f"import django, structlog; django.setup(); structlog.get_logger('t').{log_call}"
    env = {**os.environ, "DEBUG": "false", "LOG_JSON": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    ours = [entry for entry in entries if entry["event"] == "login_failed"]
    assert len(ours) == 1
    assert ours[0]["username"] == INJECTED_USERNAME
    assert not any(line.startswith("FAKE") for line in result.stderr.splitlines())


@pytest.mark.django_db
def test_query_strings_never_reach_the_log(client, json_log):
    """A search for a person's name travels in the query string; the log keeps only the path."""
    client.get("/health/ready/?q=Mar%C3%ADa+P%C3%A9rez&document=L898902C3")
    text = json_log.getvalue()
    started = next(e for e in parsed_lines(json_log) if e["event"] == "request_started")
    assert started["request"].startswith("GET /health/ready/")
    for fragment in ("María", "Mar%C3%ADa", "L898902C3", "P%C3%A9rez"):
        assert fragment not in text
