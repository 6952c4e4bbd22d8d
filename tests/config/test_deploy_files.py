"""The deployment files stay in step with the settings (Dockerfile, compose, .env.example)."""

from __future__ import annotations

import re

import yaml
from django.conf import settings

ROOT = settings.BASE_DIR
ENV_CALL = re.compile(r'(?:env\.\w+|_bool|_required)\(\s*"([A-Z][A-Z0-9_]*)"')


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads."""
    return set(ENV_CALL.findall((ROOT / "config" / "settings.py").read_text()))


def example_variables() -> set[str]:
    """Variables named in .env.example, set or commented out."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_settings_reader_finds_the_known_variables():
    assert {
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "DATABASE_URL",
        "LOG_JSON",
    } <= settings_variables()


def test_env_example_lists_every_settings_variable():
    assert settings_variables() - example_variables() == set()


def test_env_example_leaves_every_secret_blank():
    text = (ROOT / ".env.example").read_text()
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "PSEUDONYM_KEY"):
        assert re.search(rf"^{name}=$", text, flags=re.MULTILINE), name


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_all_have_healthchecks():
    services = compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert "/health/ready/" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_waits_for_healthy_services_and_migrations():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]


def test_dockerfile_runs_as_non_root_and_keeps_build_keys_out_of_the_image():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER frontera", dockerfile, flags=re.MULTILINE)
    assert "uv sync --frozen --no-dev" in dockerfile
    env_lines = re.findall(r"^ENV .*(?:\n {4}.*)*", dockerfile, flags=re.MULTILINE)
    for key in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "PSEUDONYM_KEY"):
        assert not any(key in block for block in env_lines), key


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".git", ".venv", "db.sqlite3", "media"):
        assert entry in ignored
