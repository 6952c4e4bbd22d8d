"""Fixtures for the config tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def plain_static(settings):
    """Templates use {% static %}; without a collectstatic manifest, serve names unhashed.

    With DEBUG off the settings pick whitenoise's manifest storage, whose manifest only exists
    after ``collectstatic`` (the Docker build runs it); the tests do not depend on it.
    """
    storages = {**settings.STORAGES}
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = storages
