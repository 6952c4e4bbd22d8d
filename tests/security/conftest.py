"""Fixtures for the security proofs."""

from __future__ import annotations

import pytest

from tests.security.production import apply_production


@pytest.fixture
def production(settings):
    """The DEBUG-dependent settings as a production process computes them (see production.py)."""
    return apply_production(settings)
