"""Fixtures for the place pages."""

from __future__ import annotations

import pytest

from crossings.loader import load_reference_places


@pytest.fixture
def reference_places(db):
    """The reference places loaded as `manage.py load_reference_data` would."""
    return load_reference_places()


@pytest.fixture
def registrar_client(make_user, login):
    """A signed-in, MFA-verified registrar."""
    return login(make_user("registrar"))
